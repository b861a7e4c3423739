// Command tlog_interop checks a running svc-registry's transparency log (SPEC §5) with Go's
// own verifiers, golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog, as any
// outside auditor would:
//
//  1. GET /registry/checkpoint and verify the signed note with note.Open and the given
//     verifier key; parse the C2SP checkpoint body (origin, tree size N, root).
//  2. GET every record /registry/{v} (v = 1..N), hash it with tlog.RecordHash, and check
//     its inclusion proof (GET /registry/proof/inclusion?version=v&tree_size=N) with
//     tlog.CheckRecord against the checkpoint's root.
//  3. Recompute the whole tree from the records with tlog.StoredHashes and tlog.TreeHash,
//     compare its root with the checkpoint's, and check consistency proofs between several
//     sizes (GET /registry/proof/consistency?from=A&to=B) with tlog.CheckTree.
//  4. Tamper with an inclusion proof, a consistency proof and the checkpoint, and require
//     each to be rejected.
//
// Usage: tlog_interop <registry base URL> <verifier key>
// Exit status 0 when everything verifies, 1 with a message naming the first failure.
//
// Built in GOPATH mode against Debian's golang-golang-x-mod-dev, with no network:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o tlog_interop tlog_interop.go
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var client = &http.Client{Timeout: 10 * time.Second}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlog_interop: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func get(base, path string) []byte {
	resp, err := client.Get(base + path)
	if err != nil {
		fail("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		fail("GET %s: reading the body: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		fail("GET %s: status %d: %s", path, resp.StatusCode, body)
	}
	return body
}

// getHashes fetches a proof: {"hashes":["<base64>",...]}.
func getHashes(base, path string) []tlog.Hash {
	var doc struct {
		Hashes []string `json:"hashes"`
	}
	dec := json.NewDecoder(bytes.NewReader(get(base, path)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		fail("GET %s: not a proof document: %v", path, err)
	}
	if doc.Hashes == nil {
		fail("GET %s: no \"hashes\" array", path)
	}
	out := make([]tlog.Hash, len(doc.Hashes))
	for i, s := range doc.Hashes {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			fail("GET %s: hash %d is not the base64 of 32 bytes: %q", path, i, s)
		}
		copy(out[i][:], b)
	}
	return out
}

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

// parseCheckpoint reads a C2SP checkpoint body: origin, size and root lines, then optional
// extension lines.
func parseCheckpoint(text string) (checkpoint, error) {
	var c checkpoint
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if !strings.HasSuffix(text, "\n") || len(lines) < 3 {
		return c, fmt.Errorf("not a checkpoint body: %q", text)
	}
	c.origin = lines[0]
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return c, fmt.Errorf("bad tree size line %q", lines[1])
	}
	c.size = n
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return c, fmt.Errorf("bad root line %q", lines[2])
	}
	copy(c.root[:], root)
	return c, nil
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: tlog_interop <registry base URL> <verifier key>")
		os.Exit(2)
	}
	base := strings.TrimSuffix(os.Args[1], "/")
	verifier, err := note.NewVerifier(os.Args[2])
	if err != nil {
		fail("verifier key: %v", err)
	}

	// 1. The signed checkpoint.
	msg := get(base, "/registry/checkpoint")
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("note.Open of the checkpoint: %v", err)
	}
	cp, err := parseCheckpoint(n.Text)
	if err != nil {
		fail("checkpoint: %v", err)
	}
	if cp.origin != verifier.Name() {
		fail("checkpoint origin %q is not the key's name %q", cp.origin, verifier.Name())
	}
	if cp.size < 2 {
		fail("checkpoint tree size %d: commit at least 2 versions first", cp.size)
	}
	fmt.Printf("checkpoint: origin %s, size %d, root %s\n", cp.origin, cp.size, cp.root)

	// 2. Every record and its inclusion proof; the tree rebuilt from the records.
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("no stored hash %d", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	roots := make([]tlog.Hash, cp.size+1) // roots[s] = root of the tree of size s (s >= 1)
	for v := int64(1); v <= cp.size; v++ {
		record := get(base, fmt.Sprintf("/registry/%d", v))
		leaf := tlog.RecordHash(record)
		proof := getHashes(base, fmt.Sprintf("/registry/proof/inclusion?version=%d&tree_size=%d", v, cp.size))
		if err := tlog.CheckRecord(tlog.RecordProof(proof), cp.size, cp.root, v-1, leaf); err != nil {
			fail("tlog.CheckRecord of version %d in the tree of size %d: %v", v, cp.size, err)
		}
		hashes, err := tlog.StoredHashes(v-1, record, reader)
		if err != nil {
			fail("tlog.StoredHashes of version %d: %v", v, err)
		}
		stored = append(stored, hashes...)
		if roots[v], err = tlog.TreeHash(v, reader); err != nil {
			fail("tlog.TreeHash(%d): %v", v, err)
		}
	}
	if roots[cp.size] != cp.root {
		fail("the root Go computes from the %d records, %s, is not the checkpoint's %s", cp.size, roots[cp.size], cp.root)
	}
	fmt.Printf("inclusion: %d records verified with tlog.CheckRecord; tree recomputed by Go matches\n", cp.size)

	// 3. Consistency between several sizes, including equal ones.
	type pair struct{ from, to int64 }
	pairs := []pair{{1, cp.size}, {cp.size, cp.size}, {cp.size / 2, cp.size}, {1, 2}}
	for a := int64(1); a <= cp.size; a++ {
		for b := a; b <= cp.size; b += 2 {
			pairs = append(pairs, pair{a, b})
		}
	}
	for _, p := range pairs {
		proof := getHashes(base, fmt.Sprintf("/registry/proof/consistency?from=%d&to=%d", p.from, p.to))
		if err := tlog.CheckTree(tlog.TreeProof(proof), p.to, roots[p.to], p.from, roots[p.from]); err != nil {
			fail("tlog.CheckTree from %d to %d: %v", p.from, p.to, err)
		}
	}
	fmt.Printf("consistency: %d proofs verified with tlog.CheckTree\n", len(pairs))

	// 4. Tampering must be caught.
	incl := getHashes(base, fmt.Sprintf("/registry/proof/inclusion?version=1&tree_size=%d", cp.size))
	incl[len(incl)-1][7] ^= 0x01
	if tlog.CheckRecord(tlog.RecordProof(incl), cp.size, cp.root, 0, tlog.RecordHash(get(base, "/registry/1"))) == nil {
		fail("a tampered inclusion proof verified")
	}
	cons := getHashes(base, fmt.Sprintf("/registry/proof/consistency?from=1&to=%d", cp.size))
	cons[0][0] ^= 0x80
	if tlog.CheckTree(tlog.TreeProof(cons), cp.size, cp.root, 1, roots[1]) == nil {
		fail("a tampered consistency proof verified")
	}
	forged := bytes.Replace(msg, []byte(fmt.Sprintf("\n%d\n", cp.size)), []byte(fmt.Sprintf("\n%d\n", cp.size+1)), 1)
	if _, err := note.Open(forged, note.VerifierList(verifier)); err == nil {
		fail("a checkpoint with a changed tree size verified")
	}
	fmt.Println("tampering: inclusion proof, consistency proof and checkpoint rejected")
	fmt.Println("tlog_interop: OK")
}
