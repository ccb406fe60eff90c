package xdm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Namespaces of the ebXML Registry 3.0 messages (ebRIM/ebRS 3.0, used by
// ITI TF-3 §4.2), and of the envelope the DRIMbox sample wraps them in.
const (
	NSRim  = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
	NSLcm  = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
	NSXdsB = "urn:ihe:iti:xds-b:2007"
	NSSoap = "http://www.w3.org/2003/05/soap-envelope"
)

// Classification schemes, external identifiers and object types of XDS
// metadata (ITI TF-3 §4.2.5, table 4.2.5-1), without the urn:uuid: prefix.
const (
	schemeDocAuthor           = "93606bcf-9494-43ec-9b4e-a7748d1a838d"
	schemeClassCode           = "41a5887f-8865-4c09-adf7-e362475b143a"
	schemeConfidentiality     = "f4f85eac-e6cb-4883-b524-f2705394840f"
	schemeEventCode           = "2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
	schemeFormatCode          = "a09d5840-386c-46f2-b5ad-9c3699a4309d"
	schemeFacilityType        = "f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
	schemePracticeSetting     = "cccf5598-8b07-4b77-a05e-ae952c785ead"
	schemeTypeCode            = "f0306f51-975f-434e-a61c-c59651d33983"
	idDocPatientID            = "58a6f841-87b3-4a3e-92fd-a8ffeff98427"
	idDocUniqueID             = "2e82c1f6-a085-4c72-9da3-8640a32e42ab"
	schemeSSAuthor            = "a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
	schemeSSContentType       = "aa543740-bdda-424e-8c96-df4873be8500"
	idSSPatientID             = "6b5aea1a-874d-4603-a4bc-96a0a7b38446"
	idSSSourceID              = "554ac39e-e3fe-47fe-b233-965d2a147832"
	idSSUniqueID              = "96fdda7c-d067-4183-912e-bf5ee74998a8"
	nodeSubmissionSet         = "a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
	ObjectTypeStable          = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
	ObjectTypeOnDemand        = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248"
	AssociationHasMember      = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
	AssociationSigns          = "urn:ihe:iti:2007:AssociationType:signs"
	ClassCodeDigitalSignature = "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1" // IHE DSG (ITI TF-3 §5.5), classCode of a signature document
)

// The confidentiality codes (shared/reference.md, "Documents travelling by
// mail"): HL7 levels (2.16.840.1.113883.5.25) and the French visibility
// flags (1.2.250.1.213.1.1.4.13).
const (
	ConfNormal                = "N"
	ConfRestricted            = "R"
	ConfVeryRestricted        = "V"
	ConfMasquePS              = "MASQUE_PS"
	ConfInvisiblePatient      = "INVISIBLE_PATIENT"
	ConfInvisibleLegalReps    = "INVISIBLE_REPRESENTANTS_LEGAUX"
	OIDConfidentialityHL7     = "2.16.840.1.113883.5.25"
	OIDConfidentialityFrench  = "1.2.250.1.213.1.1.4.13"
	maxSlotValuesPerSlot      = 10_000
	maxMetadataObjects        = 10_000
	maxMetadataWarnings       = 100
	defaultMetadataParseLimit = 16 << 20
)

// CodedValue is a classification: nodeRepresentation, its codingScheme slot
// and its display name.
type CodedValue struct {
	Code    string
	Scheme  string // the codingScheme, usually an OID
	Display string
}

// Author is one author classification.
type Author struct {
	Person       Person
	Institutions []Organization
	Roles        []string
	Specialties  []CodedValue
	Telecoms     []string
}

// SourcePatient is the sourcePatientInfo slot (PID-5 name, PID-7 birth
// date, PID-8 sex), as the sender's system knows the patient.
type SourcePatient struct {
	Family, Given string
	BirthDate     string // YYYYMMDD as given
	Sex           string // M, F, U
	Raw           []string
}

// SubmissionSet is the XDSSubmissionSet of a METADATA.XML.
type SubmissionSet struct {
	ID             string // the RegistryPackage id (symbolic or urn:uuid)
	Title          string
	Comments       string
	SubmissionTime time.Time
	Authors        []Author
	PatientID      PatientID
	SourceID       string
	UniqueID       string
	ContentType    CodedValue
}

// DocumentEntry is one XDSDocumentEntry (an ebRIM ExtrinsicObject).
type DocumentEntry struct {
	ID               string // the ExtrinsicObject id: entryUUID, or a symbolic id in XDM
	ObjectType       string // ObjectTypeStable or ObjectTypeOnDemand
	Title            string
	Comments         string
	MimeType         string
	Class            CodedValue
	Type             CodedValue
	Format           CodedValue
	FacilityType     CodedValue
	PracticeSetting  CodedValue
	Confidentiality  []CodedValue
	EventCodes       []CodedValue
	CreationTime     time.Time // zero when absent or unreadable (see Metadata.Warnings)
	ServiceStartTime time.Time
	ServiceStopTime  time.Time
	Hash             string // lower-case hex SHA-1 as given, "" when absent
	Size             int64  // -1 when absent or unreadable
	URI              string
	LanguageCode     string
	PatientID        PatientID
	SourcePatientID  string
	SourcePatient    SourcePatient
	UniqueID         string
	Authors          []Author
	LegalAuthent     *Person
	ReferenceIDs     []string
}

// HasConfidentiality tells whether code (N, R, V, MASQUE_PS…) is among the
// entry's confidentiality codes.
func (e *DocumentEntry) HasConfidentiality(code string) bool {
	for _, c := range e.Confidentiality {
		if c.Code == code {
			return true
		}
	}
	return false
}

// MaskedFromProfessionals: MASQUE_PS, hidden from professionals other than
// its author.
func (e *DocumentEntry) MaskedFromProfessionals() bool { return e.HasConfidentiality(ConfMasquePS) }

// InvisibleToPatient: INVISIBLE_PATIENT, never shown to, nor sent to, the patient.
func (e *DocumentEntry) InvisibleToPatient() bool { return e.HasConfidentiality(ConfInvisiblePatient) }

// InvisibleToLegalRepresentatives: INVISIBLE_REPRESENTANTS_LEGAUX.
func (e *DocumentEntry) InvisibleToLegalRepresentatives() bool {
	return e.HasConfidentiality(ConfInvisibleLegalReps)
}

// IsSignature tells whether the entry is an IHE DSG signature document
// (its classCode), which signs the submission set rather than being a
// document for the patient.
func (e *DocumentEntry) IsSignature() bool { return e.Class.Code == ClassCodeDigitalSignature }

// Association is an ebRIM Association between two registry objects.
type Association struct {
	ID, Type, Source, Target string
	Status                   string // the SubmissionSetStatus slot, e.g. Original
}

// Metadata is a parsed METADATA.XML.
type Metadata struct {
	SubmissionSet SubmissionSet
	Documents     []DocumentEntry
	Associations  []Association
	// Enveloped: the request came in a SOAP envelope
	// (ProvideAndRegisterDocumentSetRequest), as the DRIMbox one does.
	Enveloped bool
	// Warnings are the values that could not be read (a bad time, a bad
	// size): the field is left zero and the reason is kept here.
	Warnings []string
}

// ErrMetadata wraps every error of ParseMetadata; errors.Is(err,
// ErrMetadataSyntax) tells a document that is not (namespace-)well-formed
// from one that is but is not usable XDS metadata.
var (
	ErrMetadata       = errors.New("metadata")
	ErrMetadataSyntax = fmt.Errorf("%w: XML", ErrMetadata)
)

// ParseMetadata reads a METADATA.XML: an ebRIM 3.0 lcm:SubmitObjectsRequest,
// bare (ITI TF-3 §4.2.1.1) or inside a SOAP 1.2 envelope and an
// xds-b ProvideAndRegisterDocumentSetRequest (ITI-41), with or without a
// byte order mark, with any namespace prefixes. Elements are matched on
// their local name and namespace URI: the ebRIM objects must be in the rim
// 3.0 namespace (or in none, as some crude generators write them).
func ParseMetadata(data []byte) (*Metadata, error) {
	if len(data) > defaultMetadataParseLimit {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMetadata, len(data), defaultMetadataParseLimit)
	}
	root, err := parseTree(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMetadataSyntax, err)
	}
	sor := root.Find("SubmitObjectsRequest", NSLcm, "")
	if sor == nil {
		return nil, fmt.Errorf("%w: no lcm:SubmitObjectsRequest (root is <%s>)", ErrMetadata, root.Local)
	}
	list := sor.Kid("RegistryObjectList", NSRim, "")
	if list == nil {
		return nil, fmt.Errorf("%w: SubmitObjectsRequest has no rim:RegistryObjectList", ErrMetadata)
	}
	if len(list.Children) > maxMetadataObjects {
		return nil, fmt.Errorf("%w: %d registry objects, more than %d", ErrMetadata, len(list.Children), maxMetadataObjects)
	}
	m := &Metadata{Enveloped: sor != root}
	p := parser{m: m}
	ssID := p.findSubmissionSet(list)
	for _, obj := range list.Children {
		if obj.Space != NSRim && obj.Space != "" {
			continue
		}
		switch obj.Local {
		case "RegistryPackage":
			if obj.Attr("id") == ssID {
				p.submissionSet(obj)
			}
		case "ExtrinsicObject":
			m.Documents = append(m.Documents, p.documentEntry(obj))
		case "Association":
			m.Associations = append(m.Associations, Association{
				ID: obj.Attr("id"), Type: obj.Attr("associationType"),
				Source: obj.Attr("sourceObject"), Target: obj.Attr("targetObject"),
				Status: first(slotValues(obj, "SubmissionSetStatus")),
			})
		}
	}
	if ssID == "" {
		p.warn("no submission set (RegistryPackage classified %s)", nodeSubmissionSet)
	}
	return m, nil
}

type parser struct{ m *Metadata }

func (p *parser) warn(format string, args ...any) {
	if len(p.m.Warnings) < maxMetadataWarnings {
		p.m.Warnings = append(p.m.Warnings, fmt.Sprintf(format, args...))
	}
}

// findSubmissionSet is the id of the RegistryPackage that is the submission
// set: the one classified with node a54d6aa5 (the Classification may sit
// inside the package or beside it, ITI TF-3 §4.2.1.1), else one that bears
// a submission set external identifier, else the only package.
func (p *parser) findSubmissionSet(list *xmlNode) string {
	var packages []*xmlNode
	for _, obj := range list.Children {
		if obj.Local == "RegistryPackage" && (obj.Space == NSRim || obj.Space == "") {
			packages = append(packages, obj)
		}
	}
	isSSNode := func(c *xmlNode) bool { return sameUUID(c.Attr("classificationNode"), nodeSubmissionSet) }
	for _, obj := range list.Kids("Classification", NSRim, "") {
		if isSSNode(obj) {
			return obj.Attr("classifiedObject")
		}
	}
	for _, pkg := range packages {
		for _, c := range pkg.Kids("Classification", NSRim, "") {
			if isSSNode(c) {
				return pkg.Attr("id")
			}
		}
	}
	for _, pkg := range packages {
		for _, ei := range pkg.Kids("ExternalIdentifier", NSRim, "") {
			if sameUUID(ei.Attr("identificationScheme"), idSSUniqueID) || sameUUID(ei.Attr("identificationScheme"), idSSPatientID) {
				return pkg.Attr("id")
			}
		}
	}
	if len(packages) == 1 {
		return packages[0].Attr("id")
	}
	return ""
}

func (p *parser) submissionSet(pkg *xmlNode) {
	ss := &p.m.SubmissionSet
	ss.ID = pkg.Attr("id")
	ss.Title = localized(pkg.Kid("Name", NSRim, ""))
	ss.Comments = localized(pkg.Kid("Description", NSRim, ""))
	ss.SubmissionTime = p.time(pkg, "submissionTime", ss.ID)
	for _, c := range pkg.Kids("Classification", NSRim, "") {
		switch scheme := c.Attr("classificationScheme"); {
		case sameUUID(scheme, schemeSSAuthor):
			ss.Authors = append(ss.Authors, author(c))
		case sameUUID(scheme, schemeSSContentType):
			ss.ContentType = coded(c)
		}
	}
	for _, ei := range pkg.Kids("ExternalIdentifier", NSRim, "") {
		v := ei.Attr("value")
		switch scheme := ei.Attr("identificationScheme"); {
		case sameUUID(scheme, idSSPatientID):
			ss.PatientID = p.patientID(v, ss.ID)
		case sameUUID(scheme, idSSSourceID):
			ss.SourceID = strings.TrimSpace(v)
		case sameUUID(scheme, idSSUniqueID):
			ss.UniqueID = strings.TrimSpace(v)
		}
	}
}

func (p *parser) documentEntry(obj *xmlNode) DocumentEntry {
	e := DocumentEntry{
		ID:         obj.Attr("id"),
		ObjectType: obj.Attr("objectType"),
		MimeType:   strings.TrimSpace(obj.Attr("mimeType")),
		Title:      localized(obj.Kid("Name", NSRim, "")),
		Comments:   localized(obj.Kid("Description", NSRim, "")),
		Size:       -1,
	}
	e.CreationTime = p.time(obj, "creationTime", e.ID)
	e.ServiceStartTime = p.time(obj, "serviceStartTime", e.ID)
	e.ServiceStopTime = p.time(obj, "serviceStopTime", e.ID)
	e.Hash = strings.ToLower(compactID(first(slotValues(obj, "hash"))))
	if v := compactID(first(slotValues(obj, "size"))); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			e.Size = n
		} else {
			p.warn("%s: size %q is not a number", e.ID, v)
		}
	}
	e.URI = strings.TrimSpace(strings.Join(uriParts(obj), ""))
	e.LanguageCode = strings.TrimSpace(first(slotValues(obj, "languageCode")))
	e.SourcePatientID = strings.TrimSpace(first(slotValues(obj, "sourcePatientId")))
	e.SourcePatient = sourcePatient(slotValues(obj, "sourcePatientInfo"))
	e.ReferenceIDs = slotValues(obj, "urn:ihe:iti:xds:2013:referenceIdList")
	if v := first(slotValues(obj, "legalAuthenticator")); v != "" {
		la := parseXCN(v)
		e.LegalAuthent = &la
	}
	for _, c := range obj.Kids("Classification", NSRim, "") {
		switch scheme := c.Attr("classificationScheme"); {
		case sameUUID(scheme, schemeDocAuthor):
			e.Authors = append(e.Authors, author(c))
		case sameUUID(scheme, schemeClassCode):
			e.Class = coded(c)
		case sameUUID(scheme, schemeTypeCode):
			e.Type = coded(c)
		case sameUUID(scheme, schemeFormatCode):
			e.Format = coded(c)
		case sameUUID(scheme, schemeFacilityType):
			e.FacilityType = coded(c)
		case sameUUID(scheme, schemePracticeSetting):
			e.PracticeSetting = coded(c)
		case sameUUID(scheme, schemeConfidentiality):
			e.Confidentiality = append(e.Confidentiality, coded(c))
		case sameUUID(scheme, schemeEventCode):
			e.EventCodes = append(e.EventCodes, coded(c))
		}
	}
	for _, ei := range obj.Kids("ExternalIdentifier", NSRim, "") {
		v := ei.Attr("value")
		switch scheme := ei.Attr("identificationScheme"); {
		case sameUUID(scheme, idDocPatientID):
			e.PatientID = p.patientID(v, e.ID)
		case sameUUID(scheme, idDocUniqueID):
			e.UniqueID = strings.TrimSpace(v)
		}
	}
	return e
}

// uriParts: a long URI may be split over several values "1|…", "2|…"
// (ITI TF-3 §4.2.3.2.24, for values over 128 characters); a plain value is
// taken as is.
func uriParts(obj *xmlNode) []string {
	vals := slotValues(obj, "URI")
	if len(vals) <= 1 {
		return vals
	}
	parts := make([]string, len(vals))
	for _, v := range vals {
		n, rest, ok := strings.Cut(v, "|")
		i, err := strconv.Atoi(n)
		if !ok || err != nil || i < 1 || i > len(vals) || parts[i-1] != "" {
			return vals[:1]
		}
		parts[i-1] = rest
	}
	return parts
}

func (p *parser) time(obj *xmlNode, slot, id string) time.Time {
	v := first(slotValues(obj, slot))
	if v == "" {
		return time.Time{}
	}
	t, err := ParseTime(v)
	if err != nil {
		p.warn("%s: %s: %v", id, slot, err)
	}
	return t
}

func (p *parser) patientID(v, id string) PatientID {
	pid, err := ParsePatientID(strings.TrimSpace(v))
	if err != nil {
		p.warn("%s: %v", id, err)
	}
	return pid
}

func author(c *xmlNode) Author {
	var a Author
	if v := first(slotValues(c, "authorPerson")); v != "" {
		a.Person = parseXCN(v)
	}
	for _, v := range slotValues(c, "authorInstitution") {
		a.Institutions = append(a.Institutions, parseXON(v))
	}
	for _, v := range slotValues(c, "authorRole") {
		a.Roles = append(a.Roles, foldSpace(unescapeHL7(v)))
	}
	for _, v := range slotValues(c, "authorSpecialty") {
		a.Specialties = append(a.Specialties, parseCE(v))
	}
	for _, v := range slotValues(c, "authorTelecommunication") {
		a.Telecoms = append(a.Telecoms, compactID(v))
	}
	return a
}

func coded(c *xmlNode) CodedValue {
	return CodedValue{
		Code:    strings.TrimSpace(c.Attr("nodeRepresentation")),
		Scheme:  compactID(first(slotValues(c, "codingScheme"))),
		Display: localized(c.Kid("Name", NSRim, "")),
	}
}

func sourcePatient(vals []string) SourcePatient {
	sp := SourcePatient{Raw: vals}
	for _, v := range vals {
		field, val, ok := strings.Cut(strings.TrimSpace(v), "|")
		if !ok {
			continue
		}
		switch strings.ToUpper(strings.TrimSpace(field)) {
		case "PID-5":
			c := splitComponents(val)
			sp.Family, sp.Given = c.at(0), c.at(1)
		case "PID-7":
			sp.BirthDate = compactID(val)
		case "PID-8":
			sp.Sex = compactID(val)
		}
	}
	return sp
}

// slotValues are the values of the named Slot, child of obj.
func slotValues(obj *xmlNode, name string) []string {
	var out []string
	for _, s := range obj.Kids("Slot", NSRim, "") {
		if s.Attr("name") != name {
			continue
		}
		for _, vl := range s.Kids("ValueList", NSRim, "") {
			for _, v := range vl.Kids("Value", NSRim, "") {
				if len(out) < maxSlotValuesPerSlot {
					out = append(out, strings.TrimSpace(v.Text()))
				}
			}
		}
	}
	return out
}

// localized is the value of the first LocalizedString of a Name or
// Description.
func localized(n *xmlNode) string {
	if n == nil {
		return ""
	}
	if ls := n.Kid("LocalizedString", NSRim, ""); ls != nil {
		return foldSpace(ls.Attr("value"))
	}
	return ""
}

func first(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	return vals[0]
}

// sameUUID compares a scheme attribute with a UUID, with or without the
// urn:uuid: prefix, ignoring case.
func sameUUID(attr, uuid string) bool {
	attr = strings.TrimSpace(attr)
	if len(attr) > 9 && strings.EqualFold(attr[:9], "urn:uuid:") {
		attr = attr[9:]
	}
	return strings.EqualFold(attr, uuid)
}
