package certs

import (
	"crypto"
	"encoding/asn1"
)

// Object identifiers of the CMS layer, with the RFC that assigns each.
var (
	// Content types (RFC 5652 section 4 ff., RFC 5083 section 1).
	oidData                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidEnvelopedData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	oidAuthEnvelopedData   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 23}
	oidCompressedData      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 9}
	oidAttrContentType     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidAttrSigningTime     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidAttrSMIMECapability = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 15}
	oidEmailAddress        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

	// Digests (RFC 3370 section 2, RFC 5754 section 2).
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	// Signatures (RFC 3370 section 3, RFC 4056, RFC 5754 section 3,
	// RFC 5753 section 7.1.3, RFC 8419).
	oidRSAEncryption   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA1WithRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidSHA224WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}
	oidRSASSAPSS       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidECPublicKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSAWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
	oidECDSAWithSHA224 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidEd25519         = asn1.ObjectIdentifier{1, 3, 101, 112}

	// Key transport (RFC 3370 section 4.2.1, RFC 3560 / RFC 8017 A.2.1).
	oidRSAESOAEP  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 7}
	oidPSpecified = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 9}

	// Content encryption (RFC 3565 section 4.1, RFC 5084 section 3.2).
	oidAES128CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidAES128GCM = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 6}
	oidAES192GCM = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 26}
	oidAES256GCM = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}

	// Key wrap (RFC 3565 section 2.3.2) and ECDH key agreement schemes
	// (RFC 5753 section 7.1.4; SEC 1 and X9.63 arcs).
	oidAES128Wrap          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 5}
	oidAES192Wrap          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 25}
	oidAES256Wrap          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 45}
	oidStdDHSHA1KDF        = asn1.ObjectIdentifier{1, 3, 133, 16, 840, 63, 0, 2}
	oidCofactorDHSHA1KDF   = asn1.ObjectIdentifier{1, 3, 133, 16, 840, 63, 0, 3}
	oidStdDHSHA224KDF      = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 0}
	oidStdDHSHA256KDF      = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 1}
	oidStdDHSHA384KDF      = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 2}
	oidStdDHSHA512KDF      = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 3}
	oidCofactorDHSHA224KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 14, 0}
	oidCofactorDHSHA256KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 14, 1}
	oidCofactorDHSHA384KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 14, 2}
	oidCofactorDHSHA512KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 14, 3}
)

// digestByOID maps the digest algorithms accepted on input. SHA-1 is
// accepted for verification only (RFC 8551 section 2.1: receiving agents
// SHOULD still verify it); nothing here ever produces it.
func digestByOID(oid asn1.ObjectIdentifier) (crypto.Hash, string, bool) {
	switch {
	case oid.Equal(oidSHA256):
		return crypto.SHA256, "sha-256", true
	case oid.Equal(oidSHA384):
		return crypto.SHA384, "sha-384", true
	case oid.Equal(oidSHA512):
		return crypto.SHA512, "sha-512", true
	case oid.Equal(oidSHA224):
		return crypto.SHA224, "sha-224", true
	case oid.Equal(oidSHA1):
		return crypto.SHA1, "sha-1", true
	}
	return 0, "", false
}

// digestOID is the inverse of digestByOID.
func digestOID(h crypto.Hash) asn1.ObjectIdentifier {
	switch h {
	case crypto.SHA1:
		return oidSHA1
	case crypto.SHA224:
		return oidSHA224
	case crypto.SHA384:
		return oidSHA384
	case crypto.SHA512:
		return oidSHA512
	}
	return oidSHA256
}
