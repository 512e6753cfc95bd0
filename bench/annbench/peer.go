package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shoaldb/shoal/internal/vector"
)

// peerConfig says how to run the peers: hnswlib through Debian's Python
// module, and hnswlib-native, the same C++ library compiled here with
// -march=native from Debian's headers.
type peerConfig struct {
	python    string // interpreter that can import hnswlib
	script    string // bench/hnswlib_peer.py
	cppSource string // bench/hnswlib_peer.cpp
	cxx       string
}

// writeF32 writes v as raw little-endian float32 unless a file of the
// right size already exists (its name is keyed by the dataset).
func writeF32(path string, v []float32) error {
	if st, err := os.Stat(path); err == nil && st.Size() == int64(4*len(v)) {
		return nil
	}
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return writeFileAtomic(path, b)
}

func readU32(path string, want int) ([]uint32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) != 4*want {
		return nil, fmt.Errorf("%s: %d bytes, want %d", path, len(b), 4*want)
	}
	out := make([]uint32, want)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out, nil
}

// peerJSON is what both peer programs write.
type peerJSON struct {
	Name       string  `json:"name"`
	Detail     string  `json:"detail"`
	BuildSec   float64 `json:"build_sec"`
	BuildCPU   float64 `json:"build_cpu_sec"`
	IndexBytes int64   `json:"index_bytes"`
	RSSDelta   int64   `json:"rss_delta_bytes"`
	Curve      []struct {
		Ef       int     `json:"ef"`
		QPS      float64 `json:"qps"`
		CPUQPS   float64 `json:"cpu_qps"`
		CPUShare float64 `json:"cpu_share"`
		IDs      string  `json:"ids"`
	} `json:"curve"`
}

func hnswlibSpace(d vector.Distance) (string, error) {
	switch d {
	case vector.Euclid:
		return "l2", nil // squared L2, the same order as Shoal's
	case vector.Cosine, vector.Dot:
		return "ip", nil // 1 - dot; vectors are already normalised for Cosine
	}
	return "", fmt.Errorf("hnswlib has no %s space", d)
}

// runPeer runs one peer ("hnswlib" or "hnswlib-native") on the dataset
// and computes its recall from the ids it wrote.
func runPeer(name string, pc peerConfig, outDir string, ds *dataset, truth []uint32, p runParams, logf func(string, ...any)) (*engineResult, error) {
	space, err := hnswlibSpace(ds.distance)
	if err != nil {
		return nil, err
	}
	basePath := filepath.Join(outDir, "data-"+ds.key+".base.f32")
	qPath := filepath.Join(outDir, "data-"+ds.key+".queries.f32")
	if err := writeF32(basePath, ds.base); err != nil {
		return nil, err
	}
	if err := writeF32(qPath, ds.queries); err != nil {
		return nil, err
	}
	tag := fmt.Sprintf("%s-%s-m%d-efc%d", name, ds.key, p.m, p.efc)
	jsonPath := filepath.Join(outDir, "peer-"+tag+".json")
	os.Remove(jsonPath)
	efs := make([]string, len(p.efs))
	for i, ef := range p.efs {
		efs[i] = strconv.Itoa(ef)
	}
	args := []string{
		"--base", basePath, "--queries", qPath, "--dim", strconv.Itoa(ds.dim), "--space", space,
		"--m", strconv.Itoa(p.m), "--efc", strconv.Itoa(p.efc), "--threads", strconv.Itoa(p.threads),
		"--seed", strconv.FormatUint(p.seed%(1<<31), 10), "--k", strconv.Itoa(p.k),
		"--ef", strings.Join(efs, ","), "--runs", strconv.Itoa(p.runs),
		"--ids-prefix", filepath.Join(outDir, "ids-"+tag), "--json", jsonPath,
	}
	if p.peerCacheDir != "" {
		args = append(args, "--index-cache", filepath.Join(p.peerCacheDir, "index-"+tag+".hnswlib"))
	}
	var cmd *exec.Cmd
	switch name {
	case "hnswlib":
		cmd = exec.Command(pc.python, append([]string{pc.script}, args...)...)
	case "hnswlib-native":
		bin, err := buildNativePeer(pc, outDir, logf)
		if err != nil {
			return nil, err
		}
		cmd = exec.Command(bin, args...)
	default:
		return nil, fmt.Errorf("unknown peer %q (want hnswlib or hnswlib-native)", name)
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	logf("%s: %s", name, strings.Join(cmd.Args, " "))
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		return nil, err
	}
	var pj peerJSON
	if err := json.Unmarshal(b, &pj); err != nil {
		return nil, fmt.Errorf("%s: %w", jsonPath, err)
	}
	res := &engineResult{Name: pj.Name, Detail: pj.Detail, BuildSec: pj.BuildSec, BuildCPU: pj.BuildCPU, IndexBytes: pj.IndexBytes, RSSDelta: pj.RSSDelta}
	for _, c := range pj.Curve {
		ids, err := readU32(c.IDs, ds.nq()*p.k)
		if err != nil {
			return nil, err
		}
		res.Curve = append(res.Curve, curvePoint{Ef: c.Ef, QPS: c.QPS, CPUQPS: c.CPUQPS, CPUShare: c.CPUShare, Recall: recall(ids, truth, p.k)})
		os.Remove(c.IDs)
	}
	return res, nil
}

// buildNativePeer compiles hnswlib_peer.cpp into outDir when the binary is
// missing or older than the source.
func buildNativePeer(pc peerConfig, outDir string, logf func(string, ...any)) (string, error) {
	bin := filepath.Join(outDir, "hnswlib_peer_native")
	src, err := os.Stat(pc.cppSource)
	if err != nil {
		return "", err
	}
	if st, err := os.Stat(bin); err == nil && st.ModTime().After(src.ModTime()) {
		return bin, nil
	}
	cmd := exec.Command(pc.cxx, "-O3", "-march=native", "-std=c++17", "-pthread", "-o", bin, pc.cppSource)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	logf("hnswlib-native: %s", strings.Join(cmd.Args, " "))
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("compile %s (needs g++ and libhnswlib-dev): %w", pc.cppSource, err)
	}
	return bin, nil
}
