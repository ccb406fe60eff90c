package certs

import (
	"errors"
)

// CMS is defined over BER (RFC 5652 section 1.1.1), and OpenSSL writes
// indefinite lengths and chunked OCTET STRINGs whenever it streams, which
// is what `openssl cms -stream` and large `-encrypt` outputs look like.
// The parsers of this package read DER only (cryptobyte), so the input is
// first rewritten to DER shape: definite, minimal lengths and constructed
// OCTET STRINGs joined into one primitive. Elements that are already DER
// come out byte for byte identical, which matters for the certificates and
// the signed attributes, whose signatures cover their exact encoding.

const (
	// maxBERDepth bounds recursion: CMS with certificates inside nests
	// about 15 deep; 64 leaves room and stops a stack of 0x30 0x80 pairs.
	maxBERDepth = 64
	// maxBERNodes bounds the memory spent on a pathological input made of
	// millions of empty elements (a node costs ~110 bytes). A 50 MB
	// message streamed in OpenSSL's 1 KB chunks has ~50,000 nodes.
	maxBERNodes = 1 << 18
)

var errBER = errors.New("BER: malformed encoding")

type berNode struct {
	ident    []byte   // identifier octets as received
	prim     []byte   // content of a primitive element
	children []int32  // constructed element: indices of the children
	segs     [][]byte // joined constructed OCTET STRING: its pieces
	size     int      // length of the DER content
	joined   bool
}

type berDecoder struct {
	nodes   []berNode
	changed bool // the input was not already DER-shaped
}

// berToDER returns the DER shape of the first element of in, and the bytes
// that follow it. When the element was already DER-shaped, the result is a
// sub-slice of in, not a copy.
func berToDER(in []byte) (der, rest []byte, err error) {
	d := &berDecoder{}
	idx, rest, err := d.parse(in, 0)
	if err != nil {
		return nil, nil, err
	}
	if !d.changed {
		return in[:len(in)-len(rest)], rest, nil
	}
	out := make([]byte, 0, derTotal(&d.nodes[idx]))
	return d.write(out, idx), rest, nil
}

func derLenLen(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n < 1<<8:
		return 2
	case n < 1<<16:
		return 3
	case n < 1<<24:
		return 4
	}
	return 5
}

func derTotal(n *berNode) int {
	il := len(n.ident)
	if n.joined {
		il = 1
	}
	return il + derLenLen(n.size) + n.size
}

func appendDERLen(out []byte, n int) []byte {
	switch l := derLenLen(n); l {
	case 1:
		return append(out, byte(n))
	default:
		out = append(out, 0x80|byte(l-1))
		for i := l - 2; i >= 0; i-- {
			out = append(out, byte(n>>(8*i)))
		}
		return out
	}
}

func (d *berDecoder) parse(b []byte, depth int) (int, []byte, error) {
	if depth > maxBERDepth || len(d.nodes) >= maxBERNodes {
		return 0, nil, errBER
	}
	if len(b) < 2 {
		return 0, nil, errBER
	}
	n := 1
	if b[0]&0x1f == 0x1f { // high tag number form (X.690 8.1.2.4)
		for {
			if n >= len(b) || n > 5 {
				return 0, nil, errBER
			}
			c := b[n]
			n++
			if c&0x80 == 0 {
				break
			}
		}
	}
	ident := b[:n]
	constructed := b[0]&0x20 != 0
	if n >= len(b) {
		return 0, nil, errBER
	}
	l := b[n]
	n++
	indefinite := false
	length := 0
	switch {
	case l == 0x80:
		if !constructed { // X.690 8.1.3.2: primitive forms are definite
			return 0, nil, errBER
		}
		indefinite = true
		d.changed = true
	case l < 0x80:
		length = int(l)
	default:
		k := int(l & 0x7f)
		if k > 4 || n+k > len(b) {
			return 0, nil, errBER
		}
		for i := 0; i < k; i++ {
			length = length<<8 | int(b[n+i])
		}
		n += k
		if length < 0 {
			return 0, nil, errBER
		}
		if derLenLen(length) != k+1 {
			d.changed = true // non-minimal length octets
		}
	}
	body := b[n:]
	idx := len(d.nodes)
	d.nodes = append(d.nodes, berNode{ident: ident})
	if !constructed {
		if length > len(body) {
			return 0, nil, errBER
		}
		d.nodes[idx].prim = body[:length]
		d.nodes[idx].size = length
		return idx, body[length:], nil
	}

	var content, rest []byte
	if indefinite {
		content = body
	} else {
		if length > len(body) {
			return 0, nil, errBER
		}
		content, rest = body[:length], body[length:]
	}
	var children []int32
	size := 0
	for {
		if indefinite {
			if len(content) >= 2 && content[0] == 0 && content[1] == 0 {
				rest = content[2:]
				break
			}
			if len(content) == 0 {
				return 0, nil, errBER // end-of-contents missing
			}
		} else if len(content) == 0 {
			break
		}
		ci, r, err := d.parse(content, depth+1)
		if err != nil {
			return 0, nil, err
		}
		children = append(children, int32(ci))
		size += derTotal(&d.nodes[ci])
		content = r
	}

	// A constructed OCTET STRING (universal 4) is joined into one primitive
	// string (X.690 8.7.3 allows the segments, DER 10.2 forbids them).
	if ident[0] == 0x24 && len(ident) == 1 {
		d.changed = true
		var segs [][]byte
		total := 0
		for _, ci := range children {
			c := &d.nodes[ci]
			switch {
			case c.joined:
				segs = append(segs, c.segs...)
			case len(c.ident) == 1 && c.ident[0] == 0x04:
				segs = append(segs, c.prim)
			default:
				return 0, nil, errBER
			}
			total += c.size
		}
		d.nodes[idx].joined = true
		d.nodes[idx].segs = segs
		d.nodes[idx].size = total
		return idx, rest, nil
	}
	d.nodes[idx].children = children
	d.nodes[idx].size = size
	return idx, rest, nil
}

func (d *berDecoder) write(out []byte, i int) []byte {
	n := &d.nodes[i]
	if n.joined {
		out = append(out, 0x04)
		out = appendDERLen(out, n.size)
		for _, s := range n.segs {
			out = append(out, s...)
		}
		return out
	}
	out = append(out, n.ident...)
	out = appendDERLen(out, n.size)
	if n.children == nil {
		return append(out, n.prim...)
	}
	for _, c := range n.children {
		out = d.write(out, int(c))
	}
	return out
}
