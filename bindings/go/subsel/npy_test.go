// SPDX-License-Identifier: MIT

package subsel

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// readNPY reads a C-order little-endian float64/float32/int64 .npy file of
// any shape as float64, for fixtures the library reads only as vectors
// (cost matrices, plans): the test's own reader, so an expected value
// never passes through the code under test.
func readNPY(t *testing.T, path string) (shape []int64, data []float64) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 10 || string(raw[1:6]) != "NUMPY" {
		t.Fatalf("%s: not a .npy file", path)
	}
	hlen, off := int(binary.LittleEndian.Uint16(raw[8:10])), 10
	if raw[6] >= 2 {
		hlen, off = int(binary.LittleEndian.Uint32(raw[8:12])), 12
	}
	header := string(raw[off : off+hlen])
	body := raw[off+hlen:]
	if strings.Contains(header, "'fortran_order': True") {
		t.Fatalf("%s: Fortran order", path)
	}
	descr := regexp.MustCompile(`'descr': '([^']*)'`).FindStringSubmatch(header)
	dims := regexp.MustCompile(`'shape': \(([^)]*)\)`).FindStringSubmatch(header)
	if descr == nil || dims == nil {
		t.Fatalf("%s: header %q", path, header)
	}
	count := int64(1)
	for _, d := range strings.Split(dims[1], ",") {
		if d = strings.TrimSpace(d); d != "" {
			v, _ := strconv.ParseInt(d, 10, 64)
			shape = append(shape, v)
			count *= v
		}
	}
	data = make([]float64, count)
	for i := range data {
		switch descr[1] {
		case "<f8":
			data[i] = math.Float64frombits(binary.LittleEndian.Uint64(body[8*i:]))
		case "<f4":
			data[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:])))
		case "<i8":
			data[i] = float64(int64(binary.LittleEndian.Uint64(body[8*i:])))
		default:
			t.Fatalf("%s: dtype %s", path, descr[1])
		}
	}
	return shape, data
}

// maxAbsDiff is the largest |a_i - b_i| (+Inf when the lengths differ).
func maxAbsDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// expected reads one number of tests/fixtures/expected.json by section
// and key ("ot_sinkhorn", "cost").
func expected(t *testing.T, section, key string) float64 {
	t.Helper()
	raw, err := os.ReadFile(fx("expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]json.RawMessage
	var sec map[string]any
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(all[section], &sec); err != nil {
		t.Fatalf("expected.json %s: %v", section, err)
	}
	v, ok := sec[key].(float64)
	if !ok {
		t.Fatalf("expected.json: no number %s.%s", section, key)
	}
	return v
}
