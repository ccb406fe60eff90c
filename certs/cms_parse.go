package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Shared pieces of the CMS parsers. Everything is read with cryptobyte
// from DER (see cms_ber.go), never with reflection, so that hostile input
// costs at most one pass over its bytes.

// Limits on counts inside one CMS structure: they bound the public-key
// operations and allocations an attacker can make one message cost.
const (
	maxCMSSigners    = 8
	maxCMSCerts      = 64
	maxCMSRecipients = 1000
	maxCMSAttrs      = 64
)

var (
	tagCtx0Cons = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagCtx1Cons = cbasn1.Tag(1).Constructed().ContextSpecific()
	tagCtx2Cons = cbasn1.Tag(2).Constructed().ContextSpecific()
	tagCtx3Cons = cbasn1.Tag(3).Constructed().ContextSpecific()
	tagCtx4Cons = cbasn1.Tag(4).Constructed().ContextSpecific()
	tagCtx0Prim = cbasn1.Tag(0).ContextSpecific()
)

// algID is an AlgorithmIdentifier (RFC 5280 section 4.1.1.2) with its
// parameters kept as one raw element (nil when absent).
type algID struct {
	oid    asn1.ObjectIdentifier
	params []byte
}

// paramsAbsentOrNull reports whether the parameters are absent or NULL,
// the two encodings RFC 4055 section 2.1 and RFC 5754 allow for digests.
func (a algID) paramsAbsentOrNull() bool {
	return len(a.params) == 0 || bytes.Equal(a.params, []byte{0x05, 0x00})
}

func readAlgID(s *cryptobyte.String, out *algID) bool {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&out.oid) {
		return false
	}
	out.params = nil
	if !seq.Empty() {
		var p cryptobyte.String
		if !seq.ReadAnyASN1Element(&p, nil) || !seq.Empty() {
			return false
		}
		out.params = p
	}
	return true
}

// certID names a certificate the way CMS does (RFC 5652 sections 5.3 and
// 6.2): by issuer and serial number, or by subject key identifier.
type certID struct {
	issuer []byte // DER of the issuer Name
	serial *big.Int
	ski    []byte
}

func (id certID) matches(c *x509.Certificate) bool {
	if c == nil {
		return false
	}
	if id.ski != nil {
		return len(c.SubjectKeyId) > 0 && bytes.Equal(id.ski, c.SubjectKeyId)
	}
	return id.serial != nil && bytes.Equal(id.issuer, c.RawIssuer) && id.serial.Cmp(c.SerialNumber) == 0
}

func (id certID) String() string {
	if id.ski != nil {
		return fmt.Sprintf("subjectKeyIdentifier %x", id.ski)
	}
	return fmt.Sprintf("serial %x", id.serial)
}

func readIssuerAndSerial(s *cryptobyte.String, out *certID) bool {
	var seq, name cryptobyte.String
	out.serial = new(big.Int)
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) ||
		!seq.ReadASN1Element(&name, cbasn1.SEQUENCE) ||
		!seq.ReadASN1Integer(out.serial) || !seq.Empty() {
		return false
	}
	out.issuer = name
	return true
}

// readCertID reads a SignerIdentifier or RecipientIdentifier: an
// IssuerAndSerialNumber or a [0] IMPLICIT SubjectKeyIdentifier.
func readCertID(s *cryptobyte.String, out *certID) bool {
	if s.PeekASN1Tag(cbasn1.SEQUENCE) {
		return readIssuerAndSerial(s, out)
	}
	var ski cryptobyte.String
	if !s.ReadASN1(&ski, tagCtx0Prim) {
		return false
	}
	out.ski = append([]byte{}, ski...)
	return true
}

// contentInfo is the outer ContentInfo (RFC 5652 section 3).
type contentInfo struct {
	typ     asn1.ObjectIdentifier
	content []byte // the element inside [0] EXPLICIT
}

// parseContentInfo reads a BER or DER ContentInfo. Bytes after it (the
// NULs or blank lines some agents leave) are ignored.
func parseContentInfo(ber []byte) (*contentInfo, error) {
	der, _, err := berToDER(ber)
	if err != nil {
		return nil, malformed("ContentInfo: %v", err)
	}
	s := cryptobyte.String(der)
	var seq, inner cryptobyte.String
	ci := &contentInfo{}
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&ci.typ) {
		return nil, malformed("ContentInfo")
	}
	if !seq.ReadASN1(&inner, tagCtx0Cons) {
		return nil, malformed("ContentInfo: no content")
	}
	var el cryptobyte.String
	if !inner.ReadAnyASN1Element(&el, nil) {
		return nil, malformed("ContentInfo: content")
	}
	ci.content = el
	return ci, nil
}

// readImplicitOctets reads an optional [tag] IMPLICIT OCTET STRING that
// BER may have split: the DER pass joins universal constructed strings,
// but an implicitly tagged one stays constructed with OCTET STRING pieces
// inside (RFC 5652 section 6.1's encryptedContent as OpenSSL streams it).
// It returns the octets, whether the element was present, and false when
// it is malformed.
func readImplicitOctets(s *cryptobyte.String, tag int) ([]byte, bool, bool) {
	prim := cbasn1.Tag(tag).ContextSpecific()
	cons := cbasn1.Tag(tag).Constructed().ContextSpecific()
	var v cryptobyte.String
	switch {
	case s.PeekASN1Tag(prim):
		if !s.ReadASN1(&v, prim) {
			return nil, true, false
		}
		return v, true, true
	case s.PeekASN1Tag(cons):
		if !s.ReadASN1(&v, cons) {
			return nil, true, false
		}
		var out []byte
		for !v.Empty() {
			var piece cryptobyte.String
			if !v.ReadASN1(&piece, cbasn1.OCTET_STRING) {
				return nil, true, false
			}
			out = append(out, piece...)
		}
		return out, true, true
	}
	return nil, false, true
}

// attribute is one Attribute (RFC 5652 section 5.3): its type and the
// raw elements of its SET OF values.
type attribute struct {
	typ    asn1.ObjectIdentifier
	values [][]byte
}

// parseAttributes reads the content of a SET OF Attribute.
func parseAttributes(set []byte) ([]attribute, bool) {
	s := cryptobyte.String(set)
	var out []attribute
	for !s.Empty() {
		if len(out) >= maxCMSAttrs {
			return nil, false
		}
		var seq, vals cryptobyte.String
		var a attribute
		if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&a.typ) ||
			!seq.ReadASN1(&vals, cbasn1.SET) || !seq.Empty() {
			return nil, false
		}
		for !vals.Empty() {
			var v cryptobyte.String
			if !vals.ReadAnyASN1Element(&v, nil) {
				return nil, false
			}
			a.values = append(a.values, v)
		}
		out = append(out, a)
	}
	return out, true
}

// singleAttr returns the only value of the attribute typ. RFC 5652 section
// 11 makes content-type, message-digest and signing-time single-valued and
// single-instance: two of them is a malformed message, not a choice.
func singleAttr(attrs []attribute, typ asn1.ObjectIdentifier) ([]byte, bool, error) {
	var found []byte
	n := 0
	for _, a := range attrs {
		if a.typ.Equal(typ) {
			n++
			if len(a.values) != 1 {
				return nil, true, malformed("attribute %s: %d values", typ, len(a.values))
			}
			found = a.values[0]
		}
	}
	if n > 1 {
		return nil, true, malformed("attribute %s repeated", typ)
	}
	return found, n == 1, nil
}

// readOptionalElement reads an optional element whole, tag and length
// included (what the signature or the AAD covers).
func readOptionalElement(s *cryptobyte.String, out *cryptobyte.String, present *bool, tag cbasn1.Tag) bool {
	*present = s.PeekASN1Tag(tag)
	if !*present {
		return true
	}
	return s.ReadASN1Element(out, tag)
}
