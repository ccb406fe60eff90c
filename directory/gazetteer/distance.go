package gazetteer

// Distance is the optimal string alignment distance between a and b (edits:
// insert, delete, substitute a byte, swap two adjacent bytes), computed up
// to max: any larger distance is returned as max+1. It works on bytes, which
// is exact for folded text (ASCII).
func Distance(a, b string, max int) int {
	if a == b {
		return 0
	}
	la, lb := len(a), len(b)
	if d := la - lb; d > max || -d > max {
		return max + 1
	}
	if la == 0 || lb == 0 {
		return la + lb
	}
	// Three rows: two back (for transpositions), one back, current.
	var buf [3 * 64]int
	var rows []int
	if lb+1 <= 64 {
		rows = buf[:3*(lb+1)]
	} else {
		rows = make([]int, 3*(lb+1))
	}
	pp, p, c := rows[:lb+1], rows[lb+1:2*(lb+1)], rows[2*(lb+1):]
	for j := range p {
		p[j] = j
	}
	prevMin := 0
	for i := 1; i <= la; i++ {
		c[0] = i
		rowMin := i
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := p[j-1] + cost
			if d := p[j] + 1; d < v {
				v = d
			}
			if d := c[j-1] + 1; d < v {
				v = d
			}
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				if d := pp[j-2] + 1; d < v {
					v = d
				}
			}
			c[j] = v
			if v < rowMin {
				rowMin = v
			}
		}
		// A later row can only improve on this one, or on the one before
		// through a transposition (+1).
		if rowMin > max && prevMin >= max {
			return max + 1
		}
		prevMin = rowMin
		pp, p, c = p, c, pp
	}
	if p[lb] > max {
		return max + 1
	}
	return p[lb]
}
