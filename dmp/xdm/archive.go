package xdm

import (
	"archive/zip"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Limits bound what Open reads. A zero field takes its DefaultLimits value.
type Limits struct {
	MaxEntries       int   // zip entries, directories included
	MaxFileBytes     int64 // decompressed bytes of one file
	MaxTotalBytes    int64 // decompressed bytes of all the files read, METADATA.XML included
	MaxMetadataBytes int64 // decompressed bytes of one METADATA.XML
	// MaxRatio is the largest decompressed/compressed ratio of one entry,
	// enforced once the entry has given RatioFloor bytes (small files of
	// repetitive XML legitimately compress well).
	MaxRatio   int64
	RatioFloor int64
}

// DefaultLimits suit a mail attachment: a mail of the space is at most a few
// tens of megabytes, and an XDM archive holds a handful of documents (a CDA,
// its PDF rendering, a signature).
var DefaultLimits = Limits{
	MaxEntries:       256,
	MaxFileBytes:     64 << 20,
	MaxTotalBytes:    128 << 20,
	MaxMetadataBytes: 8 << 20,
	MaxRatio:         100,
	RatioFloor:       1 << 20,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxEntries > 0 {
		d.MaxEntries = l.MaxEntries
	}
	if l.MaxFileBytes > 0 {
		d.MaxFileBytes = l.MaxFileBytes
	}
	if l.MaxTotalBytes > 0 {
		d.MaxTotalBytes = l.MaxTotalBytes
	}
	if l.MaxMetadataBytes > 0 {
		d.MaxMetadataBytes = l.MaxMetadataBytes
	}
	if l.MaxRatio > 0 {
		d.MaxRatio = l.MaxRatio
	}
	if l.RatioFloor > 0 {
		d.RatioFloor = l.RatioFloor
	}
	return d
}

// Archive is an XDM archive that passed the archive-level checks.
type Archive struct {
	Sets  []*Set   // one per IHE_XDM/<subset>/METADATA.XML, by folder name
	Files []string // every regular file of the zip, as named there
}

// Set is one submission set: a subset folder and its METADATA.XML.
type Set struct {
	Folder       string // as named in the zip, e.g. IHE_XDM/SUBSET01
	Metadata     *Metadata
	Documents    []*Document // one per DocumentEntry, in metadata order
	Unreferenced []string    // files of the folder no entry names (the DRIMbox CR.TXT)
}

// Document is one DocumentEntry and its file.
type Document struct {
	Entry   *DocumentEntry
	Path    string   // the zip entry its URI resolved to, "" when none
	Content []byte   // nil when refused
	SHA1    string   // lower-case hex SHA-1 of the file, when it was read
	Problem *Problem // non-nil: the document is refused, for this reason
}

// Documents are the documents of every set, in order.
func (a *Archive) Documents() []*Document {
	var out []*Document
	for _, s := range a.Sets {
		out = append(out, s.Documents...)
	}
	return out
}

// Accepted are the documents whose file matched the metadata.
func (a *Archive) Accepted() []*Document { return a.filter(false) }

// Refused are the documents set aside, each with its Problem.
func (a *Archive) Refused() []*Document { return a.filter(true) }

func (a *Archive) filter(refused bool) []*Document {
	var out []*Document
	for _, d := range a.Documents() {
		if (d.Problem != nil) == refused {
			out = append(out, d)
		}
	}
	return out
}

// Open reads and checks an XDM archive. On an archive-level refusal the
// error is a *Problem and the archive is nil; documents refused one by one
// are in Archive.Refused. See the package documentation for which is which.
func Open(r io.ReaderAt, size int64, lim Limits) (*Archive, error) {
	o := &opener{lim: lim.withDefaults()}
	if r == nil || size <= 0 {
		return nil, problem(CodeNotZip, "", nil, "la pièce jointe IHE_XDM.ZIP est vide", "the IHE_XDM.ZIP attachment is empty")
	}
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// ErrInsecurePath comes with a usable reader: the name checks
		// below give the precise refusal.
		return nil, problem(CodeNotZip, "", err, "la pièce jointe IHE_XDM.ZIP n'est pas une archive zip lisible", "IHE_XDM.ZIP is not a readable zip archive")
	}
	o.compressedMax = uint64(size)
	if len(zr.File) > o.lim.MaxEntries {
		return nil, problem(CodeTooManyEntries, "", nil,
			"l'archive IHE_XDM.ZIP contient %d fichiers, plus que les %d admis",
			"IHE_XDM.ZIP holds %d entries, more than the %d allowed", len(zr.File), o.lim.MaxEntries)
	}
	a := &Archive{}
	byName := map[string]*zip.File{}
	for _, f := range zr.File {
		if p := checkEntry(f); p != nil {
			return nil, p
		}
		key := strings.ToUpper(strings.TrimSuffix(f.Name, "/"))
		if _, dup := byName[key]; dup {
			return nil, problem(CodeUnsafePath, f.Name, nil,
				"l'archive IHE_XDM.ZIP contient deux fois le fichier %s", "IHE_XDM.ZIP holds %s twice", f.Name)
		}
		byName[key] = f
		if !f.Mode().IsDir() {
			a.Files = append(a.Files, f.Name)
		}
	}
	o.byName = byName

	// IHE_XDM/<subset>/METADATA.XML, the subset name free (SUBSET01,
	// SS000001…), paths compared without case (ITI TF-3 §4.2.1.1 names
	// them in upper case; FAT-era writers vary).
	var sets []*zip.File
	for _, f := range zr.File {
		parts := strings.Split(strings.ToUpper(f.Name), "/")
		if len(parts) == 3 && parts[0] == "IHE_XDM" && parts[2] == "METADATA.XML" && !f.Mode().IsDir() {
			sets = append(sets, f)
		}
	}
	if len(sets) == 0 {
		return nil, problem(CodeNoMetadata, "", nil,
			"l'archive ne contient pas de fichier IHE_XDM/<sous-dossier>/METADATA.XML",
			"the archive has no IHE_XDM/<subset>/METADATA.XML")
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].Name < sets[j].Name })
	docs := 0
	for _, mf := range sets {
		s, p := o.readSet(mf)
		if p != nil {
			return nil, p
		}
		a.Sets = append(a.Sets, s)
		docs += len(s.Metadata.Documents)
	}
	if docs == 0 {
		return nil, problem(CodeNoDocument, "", nil,
			"les métadonnées de l'archive ne décrivent aucun document", "the archive metadata describe no document")
	}
	for _, s := range a.Sets {
		for i := range s.Metadata.Documents {
			d, p := o.readDocument(s, &s.Metadata.Documents[i])
			if p != nil {
				return nil, p
			}
			s.Documents = append(s.Documents, d)
		}
		s.Unreferenced = o.unreferenced(s)
	}
	return a, nil
}

type opener struct {
	lim           Limits
	byName        map[string]*zip.File
	total         int64
	compressedMax uint64
	read          map[*zip.File][]byte // files already read (two entries may name one file)
	used          map[*zip.File]bool
}

// checkEntry applies the archive-level rules to one zip entry's header.
func checkEntry(f *zip.File) *Problem {
	if why := unsafePath(strings.TrimSuffix(f.Name, "/")); why != "" {
		return problem(CodeUnsafePath, f.Name, nil,
			"l'archive contient un chemin dangereux (%s) : %q", "the archive holds an unsafe path (%s): %q", why, f.Name)
	}
	mode := f.Mode()
	if t := mode.Type(); t != 0 && t != fs.ModeDir {
		return problem(CodeSpecialFile, f.Name, nil,
			"l'archive contient un lien ou un fichier spécial : %s", "the archive holds a link or special file: %s", f.Name)
	}
	if mode.IsDir() && (!strings.HasSuffix(f.Name, "/") || f.UncompressedSize64 != 0) {
		return problem(CodeSpecialFile, f.Name, nil,
			"l'archive contient une entrée incohérente : %s", "the archive holds an inconsistent entry: %s", f.Name)
	}
	if f.Flags&0x1 != 0 {
		return problem(CodeEncrypted, f.Name, nil,
			"l'archive contient un fichier chiffré : %s", "the archive holds an encrypted file: %s", f.Name)
	}
	if f.Method != zip.Store && f.Method != zip.Deflate {
		return problem(CodeUnsupported, f.Name, nil,
			"l'archive utilise une compression non prise en charge (méthode %d) : %s",
			"the archive uses an unsupported compression method (%d): %s", f.Method, f.Name)
	}
	if isArchiveName(f.Name) {
		return problem(CodeNestedArchive, f.Name, nil,
			"une archive dans l'archive n'est pas acceptée : %s", "an archive inside the archive is refused: %s", f.Name)
	}
	return nil
}

// unsafePath says why a zip name or a URI slot value could reach outside
// the archive, or "" when it is a plain relative path.
func unsafePath(name string) string {
	switch {
	case name == "":
		return "nom vide"
	case strings.ContainsRune(name, '\\'):
		return "barre oblique inverse"
	case strings.HasPrefix(name, "/"):
		return "chemin absolu"
	case len(name) >= 2 && name[1] == ':':
		return "lecteur Windows"
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "caractère de contrôle"
		}
	}
	for _, seg := range strings.Split(name, "/") {
		switch seg {
		case "":
			return "segment vide"
		case ".", "..":
			return "segment " + seg
		}
	}
	return ""
}

// archiveExt are the names of archives and compressed files refused inside
// the archive: an XDM set holds documents, never another container.
var archiveExt = map[string]bool{
	".zip": true, ".jar": true, ".7z": true, ".rar": true, ".gz": true, ".tgz": true,
	".tar": true, ".bz2": true, ".xz": true, ".cab": true, ".zst": true,
}

func isArchiveName(name string) bool {
	return archiveExt[strings.ToLower(path.Ext(name))]
}

// archiveMagic recognises the same containers by their first bytes.
func archiveMagic(b []byte) bool {
	for _, m := range [][]byte{
		[]byte("PK\x03\x04"), []byte("PK\x05\x06"), []byte("PK\x07\x08"), // zip (and docx/odt)
		{0x1f, 0x8b},                 // gzip
		[]byte("7z\xbc\xaf\x27\x1c"), // 7-Zip
		[]byte("Rar!\x1a\x07"),       // RAR
		[]byte("\xfd7zXZ\x00"),       // xz
		{0x28, 0xb5, 0x2f, 0xfd},     // zstd
		[]byte("MSCF"),               // cab
	} {
		if bytes.HasPrefix(b, m) {
			return true
		}
	}
	return len(b) >= 10 && bytes.HasPrefix(b, []byte("BZh")) && b[3] >= '1' && b[3] <= '9' && bytes.HasPrefix(b[4:], []byte("1AY&SY"))
}

// readFile decompresses f, counting the bytes as they come: the sizes in
// the zip headers are the sender's word and are used for nothing but an
// early refusal.
func (o *opener) readFile(f *zip.File, max int64) ([]byte, *Problem) {
	if b, ok := o.read[f]; ok {
		return b, nil
	}
	tooLarge := func() *Problem {
		return problem(CodeTooLarge, f.Name, nil,
			"le fichier %s de l'archive est trop volumineux une fois décompressé", "%s is too large once decompressed", f.Name)
	}
	if f.UncompressedSize64 > uint64(max) {
		return nil, tooLarge()
	}
	compressed := min(f.CompressedSize64, o.compressedMax)
	if compressed == 0 {
		compressed = 1
	}
	rc, err := f.Open()
	if err != nil {
		return nil, problem(CodeNotZip, f.Name, err, "l'archive est endommagée", "the archive is damaged")
	}
	defer rc.Close()
	var buf bytes.Buffer
	chunk := make([]byte, 32<<10)
	var n int64
	for {
		k, err := rc.Read(chunk)
		n += int64(k)
		if n > max {
			return nil, tooLarge()
		}
		if o.total+n > o.lim.MaxTotalBytes {
			return nil, problem(CodeTooLarge, f.Name, nil,
				"l'archive est trop volumineuse une fois décompressée (plus de %d octets)",
				"the archive is too large once decompressed (over %d bytes)", o.lim.MaxTotalBytes)
		}
		if n > o.lim.RatioFloor && uint64(n) > uint64(o.lim.MaxRatio)*compressed {
			return nil, problem(CodeBomb, f.Name, nil,
				"le fichier %s se décompresse plus de %d fois : archive refusée (bombe de décompression)",
				"%s expands more than %d times: refused as a decompression bomb", f.Name, o.lim.MaxRatio)
		}
		buf.Write(chunk[:k])
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, problem(CodeNotZip, f.Name, err, "l'archive est endommagée", "the archive is damaged")
		}
	}
	o.total += n
	b := buf.Bytes()
	if archiveMagic(b) {
		return nil, problem(CodeNestedArchive, f.Name, nil,
			"une archive dans l'archive n'est pas acceptée : %s", "an archive inside the archive is refused: %s", f.Name)
	}
	if o.read == nil {
		o.read = map[*zip.File][]byte{}
	}
	o.read[f] = b
	return b, nil
}

func (o *opener) readSet(mf *zip.File) (*Set, *Problem) {
	s := &Set{Folder: path.Dir(mf.Name)}
	data, p := o.readFile(mf, min(o.lim.MaxMetadataBytes, o.lim.MaxFileBytes))
	if p != nil {
		return nil, p
	}
	o.markUsed(mf)
	m, err := ParseMetadata(data)
	if errors.Is(err, ErrMetadataSyntax) {
		return nil, problem(CodeMetadataXML, mf.Name, err,
			"le fichier %s n'est pas un XML bien formé", "%s is not well-formed XML", mf.Name)
	}
	if err != nil {
		return nil, problem(CodeMetadataContent, mf.Name, err,
			"le fichier %s n'est pas une soumission XDS utilisable", "%s is not usable XDS metadata", mf.Name)
	}
	s.Metadata = m
	return s, nil
}

func (o *opener) markUsed(f *zip.File) {
	if o.used == nil {
		o.used = map[*zip.File]bool{}
	}
	o.used[f] = true
}

// resolve finds the file a URI slot names: relative to the subset folder
// (DOC00001.XML, the ASIP examples) or to IHE_XDM (SS000001/KOS_1_1.DCM,
// the DRIMbox one), without case.
func (o *opener) resolve(s *Set, uri string) *zip.File {
	for _, cand := range []string{s.Folder + "/" + uri, "IHE_XDM/" + uri} {
		if f, ok := o.byName[strings.ToUpper(cand)]; ok && !f.Mode().IsDir() {
			return f
		}
	}
	return nil
}

func (o *opener) readDocument(s *Set, e *DocumentEntry) (*Document, *Problem) {
	d := &Document{Entry: e}
	name := e.Title
	if name == "" {
		name = e.ID
	}
	refuse := func(code Code, fr, en string, args ...any) (*Document, *Problem) {
		d.Problem = problem(code, e.URI, nil, fr, en, args...)
		d.Content = nil
		return d, nil
	}
	if e.URI == "" {
		return refuse(CodeMissingFile, "le document « %s » n'indique pas son fichier (URI)", "document %q names no file (URI)", name)
	}
	if why := unsafePath(e.URI); why != "" {
		return refuse(CodeUnsafePath, "le document « %s » désigne un chemin dangereux (%s)", "document %q names an unsafe path (%s)", name, why)
	}
	f := o.resolve(s, e.URI)
	if f == nil {
		return refuse(CodeMissingFile, "le fichier %s du document « %s » est absent de l'archive", "file %s of document %q is not in the archive", e.URI, name)
	}
	d.Path = f.Name
	o.markUsed(f)
	content, p := o.readFile(f, o.lim.MaxFileBytes)
	if p != nil {
		return nil, p
	}
	sum := sha1.Sum(content)
	d.SHA1 = hex.EncodeToString(sum[:])
	switch {
	case e.Hash == "":
		return refuse(CodeHashMismatch, "le document « %s » n'a pas d'empreinte SHA-1 dans les métadonnées", "document %q has no SHA-1 hash in the metadata", name)
	case e.Hash != d.SHA1:
		return refuse(CodeHashMismatch, "l'empreinte SHA-1 du document « %s » ne correspond pas aux métadonnées (fichier altéré ?)",
			"the SHA-1 of document %q does not match the metadata (%s, metadata %s)", name, d.SHA1, e.Hash)
	case e.Size < 0:
		return refuse(CodeSizeMismatch, "le document « %s » n'a pas de taille dans les métadonnées", "document %q has no size in the metadata", name)
	case e.Size != int64(len(content)):
		return refuse(CodeSizeMismatch, "la taille du document « %s » (%d octets) ne correspond pas aux métadonnées (%d)",
			"the size of document %q (%d bytes) does not match the metadata (%d)", name, len(content), e.Size)
	}
	d.Content = content
	return d, nil
}

func (o *opener) unreferenced(s *Set) []string {
	prefix := strings.ToUpper(s.Folder) + "/"
	var out []string
	for key, f := range o.byName {
		if strings.HasPrefix(key, prefix) && !f.Mode().IsDir() && !o.used[f] {
			out = append(out, f.Name)
		}
	}
	sort.Strings(out)
	return out
}

// String describes the problem of a refused document, for logs.
func (d *Document) String() string {
	if d.Problem == nil {
		return fmt.Sprintf("%s (%d bytes)", d.Path, len(d.Content))
	}
	return d.Problem.Error()
}
