// Package xdm reads the IHE XDM archive (IHE_XDM.ZIP) that travels with a
// mail carrying health documents, and its METADATA.XML.
//
// Sources: IHE ITI TF-1 §16 and ITI TF-3 §4.2 (XDS metadata), §4.2.3
// (attributes), §4.2.5 (classification scheme UUIDs) and the XDM media layout
// of ITI TF-3 §4.2.1.1 (volume 3, "Cross-Enterprise Document Media
// Interchange"); the French usage in shared/reference.md ("Documents
// travelling by mail"); the quirks of the real samples in
// shared/samples/README.md.
//
// The archive comes from outside the trust boundary (any professional of the
// space can send one), so Open is written as a hostile-input reader: every
// zip entry name is checked before anything is read, decompressed bytes are
// counted as they come (never trusting the sizes in the zip headers), and
// limits bound entries, bytes and compression ratio.
//
// What is refused, and at which level:
//
//   - The whole archive (Open returns a *Problem): not a zip, too many
//     entries, a path that climbs out or is absolute or uses backslashes, a
//     duplicate name, a symlink or other special file, an encrypted entry, an
//     archive inside the archive, a zip bomb (too many bytes, or a
//     compression ratio beyond the limit), no METADATA.XML, a METADATA.XML
//     that is not well-formed or not namespace-well-formed, no document.
//     These are signs of a broken or hostile sender: nothing of it is kept.
//   - One document (Document.Problem is set, Content is nil): its file is
//     missing, its URI is unsafe, or its SHA-1 hash or size do not match the
//     metadata. The other documents of the archive stay usable: a real
//     DRIMbox archive (samples KA202401) ships a signature whose hash and
//     size do not match while its imaging object does, and refusing the
//     imaging object for it would lose a good document. The caller decides
//     whether a partial archive is acceptable (Archive.Refused lists them).
//
// Patient identity is checked separately (CheckPatient), because the
// expected patient is known only to the caller: the mail's recipient.
package xdm
