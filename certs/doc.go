// Package certs is the instance's public-key infrastructure: a private
// certificate authority kept on disk, the certificates it issues (the TLS and
// operator certificate of the server, one S/MIME certificate per mailbox),
// their registry in the database, revocation through a CRL, and the trust
// anchors of the other operators.
//
// The instance is its own CA because every mailbox needs a certificate the
// moment it is created, without a round trip to an outside authority; in
// production the operator certificate and the anchors of the trust space
// come from IGC-Santé instead, and the same verification helpers apply.
//
// Layout of the pki directory (DATA/pki):
//
//	ca.pem, ca-key.pem     the authority (written last by Init: its presence
//	                       means the directory is complete)
//	tls.pem, tls-key.pem   the server and operator certificate (leaf, then CA)
//	keys/<serial>.key      private keys of issued certificates, PKCS #8
//	crl.pem                the latest revocation list
//
// Private keys are mode 0600 in 0700 directories, and every file is replaced
// atomically so that a crash never leaves a half-written key or certificate.
package certs
