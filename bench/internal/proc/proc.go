// Package proc samples Linux process trees from /proc for the bench load
// generators (bench/smtpload, bench/imapload): the CPU seconds of a tree
// (utime+stime+cutime+cstime of every live process, so that children that
// exited still count through their parent), its summed PSS (smaps_rollup)
// and its size, and the repeatable -watch name=PID flag naming the trees.
package proc

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Watch is one process tree to sample: its root PID and the name it is
// reported under.
type Watch struct {
	Name string
	PID  int
}

// WatchList is a repeatable flag.Value of name=PID arguments.
type WatchList []Watch

func (w *WatchList) String() string { return fmt.Sprint(*w) }

// Set parses one name=PID (PID > 0) and appends it.
func (w *WatchList) Set(v string) error {
	name, p, ok := strings.Cut(v, "=")
	pid, err := strconv.Atoi(p)
	if !ok || name == "" || err != nil || pid <= 0 {
		return fmt.Errorf("want name=PID, got %q", v)
	}
	*w = append(*w, Watch{name, pid})
	return nil
}

const clockTicks = 100 // USER_HZ on Linux

type stat struct {
	ppid int
	cpu  float64 // seconds
}

// readStat reads the parent and the CPU seconds (own and of waited-for
// children) of pid from /proc/PID/stat.
func readStat(pid int) (stat, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return stat{}, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return stat{}, false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return stat{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	var t float64
	for _, k := range []int{11, 12, 13, 14} { // utime stime cutime cstime
		v, _ := strconv.ParseFloat(f[k], 64)
		t += v
	}
	return stat{ppid: ppid, cpu: t / clockTicks}, true
}

// Tree returns root and its live descendants (root first, then breadth
// first; at most 100000 walked).
func Tree(root int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok {
			children[st.ppid] = append(children[st.ppid], pid)
		}
	}
	out := []int{root}
	for i := 0; i < len(out) && i < 100000; i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// TreeCPU is the CPU seconds of the tree of root.
func TreeCPU(root int) float64 { return sum([]int{root}, cpu) }

// TreesCPU is the CPU seconds of all the watched trees.
func TreesCPU(ws []Watch) float64 { return sum(roots(ws), cpu) }

// TreePSS is the summed PSS of the tree of root in KiB.
func TreePSS(root int) float64 { return sum([]int{root}, pss) }

// TreesPSS is the summed PSS of all the watched trees in KiB.
func TreesPSS(ws []Watch) float64 { return sum(roots(ws), pss) }

func roots(ws []Watch) []int {
	var r []int
	for _, w := range ws {
		r = append(r, w.PID)
	}
	return r
}

// sum adds of(pid) over the processes of the trees of roots.
func sum(roots []int, of func(pid int) float64) float64 {
	var t float64
	for _, root := range roots {
		for _, pid := range Tree(root) {
			t += of(pid)
		}
	}
	return t
}

// cpu is the CPU seconds of pid (0 when it is gone).
func cpu(pid int) float64 {
	st, _ := readStat(pid)
	return st.cpu
}

// pss is the Pss line of /proc/PID/smaps_rollup in KiB (0 when unreadable).
func pss(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return n
		}
	}
	return 0
}

// TreesProcs is the number of live processes in the watched trees.
func TreesProcs(ws []Watch) int {
	n := 0
	for _, w := range ws {
		n += len(Tree(w.PID))
	}
	return n
}

// Every calls sample at once and then every d, in its own goroutine, until
// the returned stop is called; stop returns once the last call is over.
func Every(d time.Duration, sample func()) (stop func()) {
	stopc, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			sample()
			select {
			case <-stopc:
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(stopc) })
		<-finished
	}
}
