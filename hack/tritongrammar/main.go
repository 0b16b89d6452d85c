// Command tritongrammar writes internal/triton's per-release option table
// from a git mirror of github.com/triton-inference-server/server.
//
// At every release tag vX.Y.Z from -from on it reads the tag's commit, the
// NGC container release (YY.MM) build.py maps the version to, and the long
// option names tritonserver's parser declares (src/command_line_parser.cc,
// or src/main.cc at tags older than that file). A declaration looks like
// {OPTION_<ID>, "<name>", <argument>, ...} where the argument is
// Option::Arg<Kind> or a quoted description; ArgNone or "" means no value.
//
// It prints gofmt'ed Go source: the releases, oldest first, and per option
// the first and last release declaring it. On stderr it reports options the
// parser declares that the hand-written table (-table) lacks, and the
// reverse. The output depends only on the mirror, so it is reproducible:
//
//	go run ./hack/tritongrammar -repo <mirror> -o internal/triton/releases_table.go
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	tagPattern  = regexp.MustCompile(`^v(\d+)\.(\d+)\.(\d+)$`)
	declPattern = regexp.MustCompile(`\{\s*OPTION_[A-Z0-9_]+\s*,\s*"([a-z0-9-]+)"\s*,\s*(Option::Arg\w+|"[^"]*")`)
	// build.py up to 2.52.0: TRITON_VERSION_MAP = {'2.30.0': ('23.01', ...
	oldMapPattern = regexp.MustCompile(`['"](\d+\.\d+\.\d+(?:dev)?)['"]\s*:\s*\(\s*['"](\d+\.\d+(?:dev)?)['"]`)
	// build.py from 2.53.0: DEFAULT_TRITON_VERSION_MAP = {"release_version": ...
	newVersionPattern = regexp.MustCompile(`"release_version"\s*:\s*"([^"]+)"`)
	newNGCPattern     = regexp.MustCompile(`"triton_container_version"\s*:\s*"([^"]+)"`)
)

// release is what one tag yields.
type release struct {
	version, ngc, commit string
	options              map[string]bool // long name -> takes no value
}

func main() {
	repo := flag.String("repo", "", "git directory of a triton-inference-server/server mirror (required)")
	out := flag.String("o", "", "write the Go source to this file instead of stdout")
	from := flag.String("from", "2.30.0", "oldest Triton version to read (2.30.0 is NGC 23.01)")
	table := flag.String("table", "internal/triton/options.go", "Go file holding the hand-written option table")
	flag.Parse()
	if *repo == "" {
		fail(fmt.Errorf("-repo is required"))
	}
	releases, err := readReleases(*repo, *from)
	if err != nil {
		fail(err)
	}
	if err := report(releases, *table); err != nil {
		fail(err)
	}
	src, err := generate(releases)
	if err != nil {
		fail(err)
	} else if *out == "" {
		_, err = os.Stdout.Write(src)
	} else {
		err = os.WriteFile(*out, src, 0o644)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) { fmt.Fprintln(os.Stderr, "tritongrammar:", err); os.Exit(1) }

func git(repo string, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// compareVersions orders "X.Y.Z" strings numerically.
func compareVersions(a, b string) int {
	key := func(v string) []int {
		parts := strings.Split(v, ".")
		k := make([]int, len(parts))
		for i, part := range parts {
			k[i], _ = strconv.Atoi(part)
		}
		return k
	}
	return slices.Compare(key(a), key(b))
}

// readReleases reads every release tag from version from on, oldest first.
// A patch tag is kept only when build.py at that tag maps it to an NGC
// release of its own (v2.59.1 is NGC 25.07); a tag build.py gives no NGC
// release, or the NGC release of the tag before, is skipped and reported.
func readReleases(repo, from string) ([]release, error) {
	list, err := git(repo, "tag", "--list", "v*")
	if err != nil {
		return nil, err
	}
	var versions []string
	for _, tag := range strings.Fields(list) {
		if v := strings.TrimPrefix(tag, "v"); tagPattern.MatchString(tag) && compareVersions(v, from) >= 0 {
			versions = append(versions, v)
		}
	}
	slices.SortFunc(versions, compareVersions)
	var releases []release
	for _, v := range versions {
		r, err := readRelease(repo, v)
		if err != nil {
			return nil, err
		}
		if r.ngc == "" || (len(releases) > 0 && releases[len(releases)-1].ngc == r.ngc) {
			fmt.Fprintf(os.Stderr, "skipped v%s: build.py gives it no NGC release of its own\n", v)
			continue
		}
		releases = append(releases, r)
	}
	if len(releases) == 0 {
		err = fmt.Errorf("no release tag from v%s on", from)
	}
	return releases, err
}

func readRelease(repo, version string) (release, error) {
	tag := "v" + version
	r := release{version: version, options: map[string]bool{}}
	commit, err := git(repo, "rev-parse", tag+"^{commit}")
	if err != nil {
		return r, err
	}
	r.commit = strings.TrimSpace(commit)
	build, err := git(repo, "show", tag+":build.py")
	if err != nil {
		return r, err
	}
	r.ngc = ngcRelease(build, version)
	file := "src/command_line_parser.cc"
	if _, err := git(repo, "cat-file", "-e", tag+":"+file); err != nil {
		file = "src/main.cc" // before the parser had a file of its own
	}
	src, err := git(repo, "show", tag+":"+file)
	if err != nil {
		return r, err
	}
	for _, m := range declPattern.FindAllStringSubmatch(src, -1) {
		r.options[m[1]] = m[2] == "Option::ArgNone" || m[2] == `""`
	}
	if _, ok := r.options["help"]; !ok {
		return r, fmt.Errorf("%s:%s: no option declarations found", tag, file)
	}
	return r, nil
}

// ngcRelease finds the NGC release build.py maps version to, or "". At
// some tags build.py still names the development version (v2.54.0 says
// "2.54.0dev" -> "25.01dev"); the suffix is dropped, the tag is the release.
func ngcRelease(build, version string) string {
	strip := func(s string) string { return strings.TrimSuffix(s, "dev") }
	for _, m := range oldMapPattern.FindAllStringSubmatch(build, -1) {
		if strip(m[1]) == version {
			return strip(m[2])
		}
	}
	v, n := newVersionPattern.FindStringSubmatch(build), newNGCPattern.FindStringSubmatch(build)
	if v != nil && n != nil && strip(v[1]) == version {
		return strip(n[1])
	}
	return ""
}

// generate writes the table; an option must be declared by one unbroken
// run of releases.
func generate(releases []release) ([]byte, error) {
	first, last := map[string]int{}, map[string]int{}
	for i, r := range releases {
		for name := range r.options {
			if j, seen := last[name]; !seen {
				first[name] = i
			} else if j != i-1 {
				return nil, fmt.Errorf("option %q is missing between %s and %s", name, releases[j].version, r.version)
			}
			last[name] = i
		}
	}
	var b bytes.Buffer
	b.WriteString("// Code generated by hack/tritongrammar; DO NOT EDIT.\n\npackage triton\n\n")
	b.WriteString("// releaseList is every Triton release read from the server repository's tags, oldest first.\n")
	b.WriteString("var releaseList = []Release{\n")
	for _, r := range releases {
		fmt.Fprintf(&b, "{Version: %q, NGC: %q, Commit: %q},\n", r.version, r.ngc, r.commit)
	}
	b.WriteString("}\n\n// optionSpans gives, per long option the parser declares, the first release\n")
	b.WriteString("// that accepts it and the last one (empty while the newest still does).\n")
	b.WriteString("var optionSpans = map[string]span{\n")
	for _, name := range sortedKeys(first) {
		fmt.Fprintf(&b, "%q: {since: %q", name, releases[first[name]].version)
		if last[name] != len(releases)-1 {
			fmt.Fprintf(&b, ", until: %q", releases[last[name]].version)
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// report compares the options the parser declares with the table.
func report(releases []release, table string) error {
	flags, skipped, err := readTable(table)
	if err != nil {
		return err
	}
	declared := map[string]bool{}
	for _, r := range releases {
		for name, noValue := range r.options {
			declared[name] = noValue
		}
	}
	for _, name := range sortedKeys(declared) {
		isFlag, inTable := flags[name]
		switch {
		case skipped[name]:
			fmt.Fprintf(os.Stderr, "declared by the parser, left out on purpose (notServerOptions): %s\n", name)
		case !inTable:
			fmt.Fprintf(os.Stderr, "declared by the parser, missing from the table: %s\n", name)
		case isFlag != declared[name]:
			fmt.Fprintf(os.Stderr, "%s: takes no value in the parser: %v; Flag in the table: %v\n", name, declared[name], isFlag)
		}
	}
	for _, name := range sortedKeys(flags) {
		if _, ok := declared[name]; !ok {
			fmt.Fprintf(os.Stderr, "in the table, declared by no release: %s\n", name)
		}
	}
	return nil
}

// readTable reads from the Go source the names of the specs table (true for
// a Flag) and the names in notServerOptions.
func readTable(path string) (flags, skipped map[string]bool, err error) {
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, nil, err
	}
	flags, skipped = map[string]bool{}, map[string]bool{}
	unquote := func(e ast.Expr) string {
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			s, _ := strconv.Unquote(lit.Value)
			return s
		}
		return ""
	}
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr: // opt("name", Type, ...) and enumOpt("name", ...)
			fn, ok := n.Fun.(*ast.Ident)
			if !ok || (fn.Name != "opt" && fn.Name != "enumOpt") || len(n.Args) < 2 || unquote(n.Args[0]) == "" {
				return true
			}
			kind, _ := n.Args[1].(*ast.Ident)
			flags[unquote(n.Args[0])] = fn.Name == "opt" && kind != nil && kind.Name == "Flag"
		case *ast.ValueSpec: // var notServerOptions = map[string]string{"name": "why", ...}
			if n.Names[0].Name != "notServerOptions" || len(n.Values) != 1 {
				return true
			}
			if lit, ok := n.Values[0].(*ast.CompositeLit); ok {
				for _, e := range lit.Elts {
					skipped[unquote(e.(*ast.KeyValueExpr).Key)] = true
				}
			}
		}
		return true
	})
	if len(flags) == 0 {
		return nil, nil, fmt.Errorf("%s: no opt(...) or enumOpt(...) entries", path)
	}
	return flags, skipped, nil
}
