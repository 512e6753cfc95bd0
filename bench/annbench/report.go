package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/shoaldb/shoal/internal/vector"
)

// atRecall is the interpolated QPS of one curve at a recall level.
type atRecall struct {
	QPS float64 `json:"qps"`
	// Reached is false when no ef of the curve got to the level.
	Reached bool `json:"reached"`
	// AtLeast: the smallest ef measured already exceeds the level, so QPS
	// is that point's, a lower bound of the curve's QPS at the level.
	AtLeast bool `json:"at_least"`
}

// qpsAtRecall walks the curve in ef order to the first point at or above
// target and interpolates QPS linearly in recall between it and the point
// before it.
func qpsAtRecall(curve []curvePoint, target float64) atRecall {
	for i, p := range curve {
		if p.Recall < target {
			continue
		}
		if i == 0 {
			return atRecall{QPS: p.QPS, Reached: true, AtLeast: true}
		}
		a := curve[i-1]
		f := (target - a.Recall) / (p.Recall - a.Recall)
		return atRecall{QPS: a.QPS + f*(p.QPS-a.QPS), Reached: true}
	}
	return atRecall{}
}

func (a atRecall) String() string {
	switch {
	case !a.Reached:
		return "not reached"
	case a.AtLeast:
		return fmt.Sprintf("≥%.0f", a.QPS)
	}
	return fmt.Sprintf("%.0f", a.QPS)
}

// ratioText is Shoal's QPS over the peer's at one level, with a word when
// either side has no comparable number.
func ratioText(s, p atRecall) string {
	switch {
	case !s.Reached && !p.Reached:
		return "not reached by either"
	case !s.Reached:
		return "not reached by Shoal"
	case !p.Reached:
		return "not reached by the peer"
	}
	r := fmt.Sprintf("%.2f", s.QPS/p.QPS)
	if s.AtLeast || p.AtLeast {
		r += " (a bound: lowest ef already above this recall on one side)"
	}
	return r
}

type machine struct {
	Date     string `json:"date"`
	NumCPU   int    `json:"nproc"`
	CPU      string `json:"cpu"`
	Go       string `json:"go"`
	Kernels  string `json:"shoal_kernels"`
	MemTotal string `json:"mem_total"`
	// BusyBefore and BusyAfter: cores kept busy by other work during a
	// one-second idle sample before and after the benchmark.
	BusyBefore float64 `json:"busy_cores_before"`
	BusyAfter  float64 `json:"busy_cores_after"`
}

func describeMachine() machine {
	m := machine{
		Date:    time.Now().UTC().Format("2006-01-02 15:04 MST"),
		NumCPU:  runtime.NumCPU(),
		Go:      runtime.Version(),
		Kernels: kernelName(),
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if line, _, ok := strings.Cut(string(b), "\n"); ok {
			_, v, _ := strings.Cut(line, ":")
			m.MemTotal = strings.TrimSpace(v)
		}
	}
	return m
}

func kernelName() string { return vector.Implementation() }

type ratio struct {
	Recall float64             `json:"recall"`
	Shoal  atRecall            `json:"shoal"`
	Peers  map[string]atRecall `json:"peers"`
	// The same from QPS by thread CPU time (preemption taken out).
	ShoalCPU atRecall            `json:"shoal_cpu"`
	PeersCPU map[string]atRecall `json:"peers_cpu"`
}

// byCPU is the curve with QPS by thread CPU time in place of wall time.
func byCPU(c []curvePoint) []curvePoint {
	out := make([]curvePoint, len(c))
	for i, p := range c {
		out[i] = p
		out[i].QPS = p.CPUQPS
	}
	return out
}

type report struct {
	Machine   machine         `json:"machine"`
	Dataset   string          `json:"dataset"`
	Params    map[string]any  `json:"params"`
	Engines   []*engineResult `json:"engines"` // Shoal first
	Ratios    []ratio         `json:"ratios"`
	Scan      *scanResult     `json:"scan,omitempty"`
	Bandwidth *bandwidth      `json:"bandwidth,omitempty"`
}

var recallLevels = []float64{0.95, 0.99}

func (r *report) computeRatios() {
	r.Ratios = nil
	for _, lv := range recallLevels {
		x := ratio{
			Recall: lv, Shoal: qpsAtRecall(r.Engines[0].Curve, lv), Peers: map[string]atRecall{},
			ShoalCPU: qpsAtRecall(byCPU(r.Engines[0].Curve), lv), PeersCPU: map[string]atRecall{},
		}
		for _, e := range r.Engines[1:] {
			x.Peers[e.Name] = qpsAtRecall(e.Curve, lv)
			x.PeersCPU[e.Name] = qpsAtRecall(byCPU(e.Curve), lv)
		}
		r.Ratios = append(r.Ratios, x)
	}
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// writeTable prints one row per ef: recall and QPS of every engine.
func (r *report) writeTable(w io.Writer, qps func(curvePoint) float64) {
	head, rule := "| ef |", "|---:|"
	for _, e := range r.Engines {
		head += fmt.Sprintf(" %s recall | %s QPS |", e.Name, e.Name)
		rule += "---:|---:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	for i, p := range r.Engines[0].Curve {
		row := fmt.Sprintf("| %d |", p.Ef)
		for _, e := range r.Engines {
			if i < len(e.Curve) && e.Curve[i].Ef == p.Ef {
				row += fmt.Sprintf(" %.4f | %.0f |", e.Curve[i].Recall, qps(e.Curve[i]))
			} else {
				row += " - | - |"
			}
		}
		fmt.Fprintln(w, row)
	}
	fmt.Fprintln(w)
}

// writeMarkdown prints the side-by-side table and the summary lines.
func (r *report) writeMarkdown(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "### %s\n\n", r.Dataset)
	fmt.Fprintf(w, "%s; %d CPUs (%s); %s; Shoal kernels %s; %s\n\n", m.Date, m.NumCPU, m.CPU, m.MemTotal, m.Kernels, m.Go)
	rounds := ""
	if n, ok := r.Params["rounds"].(int); ok && n > 1 {
		rounds = fmt.Sprintf("; %d rounds with the engines taking turns, each engine's best round per ef", n)
	}
	fmt.Fprintf(w, "k=%v, M=%v, ef_construction=%v, build threads %v, queries single-threaded, best of %v runs%s\n\n",
		r.Params["k"], r.Params["m"], r.Params["efc"], r.Params["threads"], r.Params["runs"], rounds)

	r.writeTable(w, func(p curvePoint) float64 { return p.QPS })
	fmt.Fprintln(w, "The same passes with QPS counted in the searching thread's CPU time (what the wall-clock figures would be on a quiet machine):")
	fmt.Fprintln(w)
	r.writeTable(w, func(p curvePoint) float64 { return p.CPUQPS })

	for _, x := range r.Ratios {
		for _, e := range r.Engines[1:] {
			p := x.Peers[e.Name]
			fmt.Fprintf(w, "- QPS at recall %.2f: Shoal %s, %s %s; **Shoal/%s = %s** (by thread CPU time: %s)\n",
				x.Recall, x.Shoal, e.Name, p, e.Name, ratioText(x.Shoal, p), ratioText(x.ShoalCPU, x.PeersCPU[e.Name]))
		}
		if len(r.Engines) == 1 {
			fmt.Fprintf(w, "- QPS at recall %.2f: Shoal %s\n", x.Recall, x.Shoal)
		}
	}
	for _, e := range r.Engines {
		fmt.Fprintf(w, "- %s: build %.1f s (%.1f CPU-s); memory %s", e.Name, e.BuildSec, e.BuildCPU, mib(e.IndexBytes))
		if e.GraphBytes > 0 {
			fmt.Fprintf(w, " (graph %s + vectors %s)", mib(e.GraphBytes), mib(e.IndexBytes-e.GraphBytes))
		} else {
			fmt.Fprint(w, " (saved index: links + vectors + labels)")
		}
		if e.RSSDelta != 0 {
			label := "RSS growth during build"
			if e.Name == "Shoal" {
				label = "Go heap in use after build, minus before"
			}
			fmt.Fprintf(w, "; %s %s", label, mib(e.RSSDelta))
		}
		fmt.Fprintf(w, " — %s\n", e.Detail)
	}
	shares := "- CPU share of the searching thread over the timed passes (1.00: never preempted), lowest over ef:"
	for _, e := range r.Engines {
		lo := 1.0
		for _, c := range e.Curve {
			lo = min(lo, c.CPUShare)
		}
		shares += fmt.Sprintf(" %s %.2f,", e.Name, lo)
	}
	fmt.Fprintf(w, "%s; other load on the machine: %.2f busy cores before, %.2f after\n",
		strings.TrimSuffix(shares, ","), m.BusyBefore, m.BusyAfter)
	if s := r.Scan; s != nil {
		fmt.Fprintf(w, "- exact scan, 1 thread, %s kernel: %.1f GB/s (%.1f ns/vector, %s base, best of %d queries)\n",
			m.Kernels, s.GBps, s.NsPerVec, mib(s.BaseBytes), s.QueriesRun)
	}
	if b := r.Bandwidth; b != nil {
		fmt.Fprintf(w, "- memory read bandwidth (%s buffer): 1 thread %.1f GB/s, %d threads %.1f GB/s\n",
			mib(b.BufferBytes), b.OneGBps, b.Threads, b.AllGBps)
	}
	fmt.Fprintln(w)
}
