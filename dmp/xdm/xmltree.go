package xdm

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// A small namespace-checking XML tree for METADATA.XML.
//
// encoding/xml's Token resolves prefixes, but when a prefix is undeclared it
// silently keeps the prefix as the namespace: the stripped DRIM-M METADATA
// (a bare <ns3:SubmitObjectsRequest> with ns3 never declared, see
// shared/samples/README.md) would then pass for a document it is not. So the
// tree is built from RawToken with our own scope stack, which refuses an
// undeclared prefix (Namespaces in XML 1.0 §5, "Namespace constraint: Prefix
// Declared") and checks that end tags match.

const (
	nsXML   = "http://www.w3.org/XML/1998/namespace"
	maxTree = 1 << 20 // elements
	maxNest = 128     // element depth: the real files go 12 deep
)

type xmlAttr struct {
	Space, Local, Value string
}

type xmlNode struct {
	Space, Local string // namespace URI and local name
	Attrs        []xmlAttr
	Children     []*xmlNode
	text         strings.Builder
}

// Text is the node's own character data (not its descendants').
func (n *xmlNode) Text() string { return n.text.String() }

// Attr returns the value of the unprefixed attribute local.
func (n *xmlNode) Attr(local string) string {
	for _, a := range n.Attrs {
		if a.Space == "" && a.Local == local {
			return a.Value
		}
	}
	return ""
}

// Find is the first descendant (or n itself) with this local name in one of
// the given namespaces, depth first.
func (n *xmlNode) Find(local string, spaces ...string) *xmlNode {
	if n.Local == local && inSpaces(n.Space, spaces) {
		return n
	}
	for _, c := range n.Children {
		if f := c.Find(local, spaces...); f != nil {
			return f
		}
	}
	return nil
}

// Kids are the direct children with this local name in one of the spaces.
func (n *xmlNode) Kids(local string, spaces ...string) []*xmlNode {
	var out []*xmlNode
	for _, c := range n.Children {
		if c.Local == local && inSpaces(c.Space, spaces) {
			out = append(out, c)
		}
	}
	return out
}

// Kid is the first direct child with this local name, or nil.
func (n *xmlNode) Kid(local string, spaces ...string) *xmlNode {
	for _, c := range n.Children {
		if c.Local == local && inSpaces(c.Space, spaces) {
			return c
		}
	}
	return nil
}

func inSpaces(s string, spaces []string) bool {
	if len(spaces) == 0 {
		return true
	}
	for _, sp := range spaces {
		if s == sp {
			return true
		}
	}
	return false
}

var errNotWellFormed = errors.New("not well-formed")

type scope struct {
	raw    xml.Name // as written, to match the end tag
	prefix map[string]string
	dflt   string
	node   *xmlNode
}

// parseTree parses a whole XML document. A UTF-8 byte order mark is skipped;
// ISO-8859-1 and US-ASCII declarations are read; other encodings, DTDs and
// undeclared prefixes are errors.
func parseTree(data []byte) (*xmlNode, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = charsetReader
	var (
		stack []scope
		root  *xmlNode
		count int
	)
	lookup := func(prefix string) (string, bool) {
		switch prefix {
		case "xml":
			return nsXML, true
		case "":
			if len(stack) == 0 {
				return "", true
			}
			return stack[len(stack)-1].dflt, true
		}
		for i := len(stack) - 1; i >= 0; i-- {
			if uri, ok := stack[i].prefix[prefix]; ok {
				return uri, true
			}
		}
		return "", false
	}
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errNotWellFormed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && root != nil {
				return nil, fmt.Errorf("%w: more than one root element", errNotWellFormed)
			}
			if len(stack) >= maxNest {
				return nil, fmt.Errorf("%w: elements nested deeper than %d", errNotWellFormed, maxNest)
			}
			if count++; count > maxTree {
				return nil, fmt.Errorf("%w: more than %d elements", errNotWellFormed, maxTree)
			}
			sc := scope{raw: t.Name}
			if len(stack) > 0 {
				sc.dflt = stack[len(stack)-1].dflt
			}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					sc.dflt = a.Value
				case a.Name.Space == "xmlns":
					if a.Value == "" {
						return nil, fmt.Errorf("%w: prefix %q bound to an empty namespace", errNotWellFormed, a.Name.Local)
					}
					if sc.prefix == nil {
						sc.prefix = map[string]string{}
					}
					sc.prefix[a.Name.Local] = a.Value
				}
			}
			stack = append(stack, sc)
			top := &stack[len(stack)-1]
			space, ok := lookup(t.Name.Space)
			if !ok {
				return nil, fmt.Errorf("%w: prefix %q of <%s:%s> is not declared", errNotWellFormed, t.Name.Space, t.Name.Space, t.Name.Local)
			}
			n := &xmlNode{Space: space, Local: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				as := ""
				if a.Name.Space != "" {
					if as, ok = lookup(a.Name.Space); !ok {
						return nil, fmt.Errorf("%w: prefix %q of attribute %s:%s is not declared", errNotWellFormed, a.Name.Space, a.Name.Space, a.Name.Local)
					}
				}
				n.Attrs = append(n.Attrs, xmlAttr{Space: as, Local: a.Name.Local, Value: a.Value})
			}
			if len(stack) > 1 {
				parent := stack[len(stack)-2].node
				parent.Children = append(parent.Children, n)
			} else {
				root = n
			}
			top.node = n
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, fmt.Errorf("%w: unexpected end tag", errNotWellFormed)
			}
			if top := stack[len(stack)-1].raw; top != t.Name {
				return nil, fmt.Errorf("%w: element <%s> closed by </%s>", errNotWellFormed, qname(top), qname(t.Name))
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, fmt.Errorf("%w: text outside the root element", errNotWellFormed)
				}
				continue
			}
			stack[len(stack)-1].node.text.Write(t)
		case xml.Directive:
			// SOAP 1.2 Part 1 §5 forbids a DTD in a message, and nothing
			// in ebRIM needs one: refusing it also rules out entity tricks.
			return nil, fmt.Errorf("%w: a DTD or other directive is not allowed", errNotWellFormed)
		}
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("%w: <%s> is never closed", errNotWellFormed, qname(stack[len(stack)-1].raw))
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", errNotWellFormed)
	}
	return root, nil
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// charsetReader reads the two single-byte encodings a French sender may
// declare besides UTF-8.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "iso_8859-1":
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		var sb strings.Builder
		sb.Grow(len(b) * 2)
		for _, c := range b {
			sb.WriteRune(rune(c))
		}
		return strings.NewReader(sb.String()), nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}
