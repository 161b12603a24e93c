// Command trim leaves one library out of one package of a copy of a module: every top-level
// declaration of the package that uses the library, or uses a declaration so left out, is removed
// from its file, and so is every import no longer used; a stub file (the recipe's) is added to the
// package, declaring in their place the names the rest of the package still calls.
//
//	trim -dir PACKAGE_DIR -without IMPORT_PREFIX -stub FILE
//
// rewrites the package's files in place, each as a new file (so a hard link into the module cache
// is replaced, never written through), and prints what it left out. It fails when the package does
// not use the library (the recipe would then be stale) or the stub declares a name the package
// does not.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// A top-level declaration: a function, a method, or one spec of a type, var or const declaration.
type decl struct {
	file    *ast.File
	node    ast.Node // *ast.FuncDecl or *ast.TypeSpec / *ast.ValueSpec
	names   []string // package-level names it declares ("" for a method)
	label   string
	uses    map[string]bool // package-level names it refers to
	imports map[string]bool // import names (of its file) it refers to
	dropped bool
}

func main() {
	dir := flag.String("dir", "", "the package's directory in the module cache")
	without := flag.String("without", "", "the import path (prefix) of the library to leave out")
	stubPath := flag.String("stub", "", "a Go file of the package declaring what the rest still calls")
	flag.Parse()
	if *dir == "" || *without == "" || *stubPath == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*dir, *without, *stubPath); err != nil {
		fmt.Fprintln(os.Stderr, "trim:", err)
		os.Exit(1)
	}
}

func run(dir, without, stubPath string) error {
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return err
	}
	var files []*ast.File
	fileNames := map[*ast.File]string{}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		files = append(files, f)
		fileNames[f] = p
		noteTopLevel(f)
	}
	stub, err := parser.ParseFile(fset, stubPath, nil, 0)
	if err != nil {
		return err
	}
	stubbed := map[string]bool{}
	for _, d := range collect(stub) {
		for _, n := range d.names {
			stubbed[n] = true
		}
	}

	// The import names, per file, that stand for the library.
	library := map[*ast.File]map[string]bool{}
	uses := 0
	for _, f := range files {
		library[f] = map[string]bool{}
		for _, spec := range f.Imports {
			path, _ := strconv.Unquote(spec.Path.Value)
			if path == without || strings.HasPrefix(path, without+"/") {
				library[f][importName(spec, path)] = true
				uses++
			}
		}
	}
	if uses == 0 {
		return fmt.Errorf("no file of %s imports %s", dir, without)
	}

	var decls []*decl
	for _, f := range files {
		decls = append(decls, collect(f)...)
	}
	declared := map[string]bool{}
	for _, d := range decls {
		for _, n := range d.names {
			declared[n] = true
		}
	}
	for n := range stubbed {
		if !declared[n] {
			return fmt.Errorf("the stub declares %s, which %s does not", n, dir)
		}
	}

	// Leave out, until nothing changes, what uses the library or what was left out; what the stub
	// declares is left out and stands in for what used it.
	gone := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for _, d := range decls {
			if d.dropped || !drops(d, library[d.file], gone, stubbed) {
				continue
			}
			d.dropped, changed = true, true
			for _, n := range d.names {
				if !stubbed[n] {
					gone[n] = true
				}
			}
		}
	}

	for _, f := range files {
		var left []string
		for _, d := range decls {
			if d.file == f && d.dropped {
				left = append(left, d.label)
			}
		}
		if len(left) == 0 {
			continue
		}
		removeDecls(f, decls)
		if err := removeUnusedImports(f, dir); err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := format.Node(&buf, fset, f); err != nil {
			return err
		}
		if err := replaceFile(fileNames[f], buf.Bytes()); err != nil {
			return err
		}
		fmt.Printf("%s: left out %s\n", filepath.Base(fileNames[f]), strings.Join(left, ", "))
	}
	stubText, err := os.ReadFile(stubPath)
	if err != nil {
		return err
	}
	return replaceFile(filepath.Join(dir, "zz_trim_"+strings.TrimSuffix(filepath.Base(stubPath), ".in")), stubText)
}

// replaceFile writes a new file in place of path (removed first: it may be a hard link).
func replaceFile(path string, content []byte) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.WriteFile(path, content, 0o644)
}

// drops says whether d uses the library (through its file's import names) or a name left out,
// or declares a name the stub stands in for.
func drops(d *decl, library, gone, stubbed map[string]bool) bool {
	for _, n := range d.names {
		if stubbed[n] {
			return true
		}
	}
	for n := range d.imports {
		if library[n] {
			return true
		}
	}
	for n := range d.uses {
		if gone[n] {
			return true
		}
	}
	return false
}

// collect lists the top-level declarations of f with what they refer to.
func collect(f *ast.File) []*decl {
	var out []*decl
	for _, gd := range f.Decls {
		switch gd := gd.(type) {
		case *ast.FuncDecl:
			d := &decl{file: f, node: gd, label: gd.Name.Name}
			if gd.Recv == nil {
				d.names = []string{gd.Name.Name}
			} else {
				d.label = receiverType(gd.Recv) + "." + gd.Name.Name
			}
			d.uses, d.imports = references(gd)
			out = append(out, d)
		case *ast.GenDecl:
			if gd.Tok == token.IMPORT {
				continue
			}
			for _, spec := range gd.Specs {
				d := &decl{file: f, node: spec}
				switch spec := spec.(type) {
				case *ast.TypeSpec:
					d.names = []string{spec.Name.Name}
				case *ast.ValueSpec:
					for _, n := range spec.Names {
						d.names = append(d.names, n.Name)
					}
				}
				d.label = strings.Join(d.names, ", ")
				d.uses, d.imports = references(spec)
				out = append(out, d)
			}
		}
	}
	return out
}

func receiverType(recv *ast.FieldList) string {
	t := recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	if index, ok := t.(*ast.IndexExpr); ok {
		t = index.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name
	}
	return "?"
}

// references lists the names n refers to that are not its own locals: package-level names
// (the parser resolves locals within a file; another file's names stay unresolved) and, as
// the qualifier of a selector, import names. A field or method name after a dot, a struct
// literal's key and a declared name are not references.
func references(n ast.Node) (names, imports map[string]bool) {
	names, imports = map[string]bool{}, map[string]bool{}
	skip := map[*ast.Ident]bool{}
	ast.Inspect(n, func(node ast.Node) bool {
		switch node := node.(type) {
		case *ast.FuncDecl:
			skip[node.Name] = true
		case *ast.TypeSpec:
			skip[node.Name] = true
		case *ast.ValueSpec:
			for _, id := range node.Names {
				skip[id] = true
			}
		case *ast.Field:
			for _, id := range node.Names {
				skip[id] = true
			}
		case *ast.SelectorExpr:
			skip[node.Sel] = true
			if id, ok := node.X.(*ast.Ident); ok && id.Obj == nil {
				imports[id.Name] = true
			}
		case *ast.KeyValueExpr:
			if id, ok := node.Key.(*ast.Ident); ok {
				skip[id] = true
			}
		case *ast.Ident:
			if !skip[node] && (node.Obj == nil || isTopLevel(node.Obj)) {
				names[node.Name] = true
			}
		}
		return true
	})
	return names, imports
}

// topLevel holds the package's top-level declarations (functions, type and value specs): a
// name the parser resolved to one of them is a package-level name, to anything else a local.
var topLevel = map[any]bool{}

func isTopLevel(obj *ast.Object) bool { return topLevel[obj.Decl] }

func noteTopLevel(f *ast.File) {
	for _, gd := range f.Decls {
		switch gd := gd.(type) {
		case *ast.FuncDecl:
			topLevel[gd] = true
		case *ast.GenDecl:
			for _, spec := range gd.Specs {
				topLevel[spec] = true
			}
		}
	}
}

// removeDecls takes f's left-out declarations, and the comments inside or above them, out of f.
func removeDecls(f *ast.File, decls []*decl) {
	drop := map[ast.Node]bool{}
	for _, d := range decls {
		if d.file == f && d.dropped {
			drop[d.node] = true
		}
	}
	var ranges [][2]token.Pos
	keep := f.Decls[:0]
	for _, gd := range f.Decls {
		switch g := gd.(type) {
		case *ast.FuncDecl:
			if drop[g] {
				ranges = append(ranges, span(g, g.Doc))
				continue
			}
		case *ast.GenDecl:
			whole := span(g, g.Doc)
			specs := g.Specs[:0]
			for _, spec := range g.Specs {
				if drop[spec] {
					ranges = append(ranges, span(spec, specDoc(spec)))
					continue
				}
				specs = append(specs, spec)
			}
			g.Specs = specs
			if len(specs) == 0 && g.Tok != token.IMPORT {
				ranges = append(ranges, whole)
				continue
			}
		}
		keep = append(keep, gd)
	}
	f.Decls = keep
	comments := f.Comments[:0]
	for _, c := range f.Comments {
		inside := false
		for _, r := range ranges {
			if c.Pos() >= r[0] && c.End() <= r[1] {
				inside = true
			}
		}
		if !inside {
			comments = append(comments, c)
		}
	}
	f.Comments = comments
}

func span(n ast.Node, doc *ast.CommentGroup) [2]token.Pos {
	if doc != nil {
		return [2]token.Pos{doc.Pos(), n.End()}
	}
	return [2]token.Pos{n.Pos(), n.End()}
}

func specDoc(spec ast.Spec) *ast.CommentGroup {
	switch s := spec.(type) {
	case *ast.TypeSpec:
		return s.Doc
	case *ast.ValueSpec:
		return s.Doc
	}
	return nil
}

// removeUnusedImports takes out of f every import its remaining code no longer names. An import
// without a name is named by its package clause, which `go list` reads.
func removeUnusedImports(f *ast.File, dir string) error {
	used := map[string]bool{}
	ast.Inspect(f, func(node ast.Node) bool {
		if sel, ok := node.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Obj == nil {
				used[id.Name] = true
			}
		}
		return true
	})
	var unnamed []string
	for _, spec := range f.Imports {
		if spec.Name == nil {
			path, _ := strconv.Unquote(spec.Path.Value)
			unnamed = append(unnamed, path)
		}
	}
	names, err := packageNames(dir, unnamed)
	if err != nil {
		return err
	}
	for _, gd := range f.Decls {
		g, ok := gd.(*ast.GenDecl)
		if !ok || g.Tok != token.IMPORT {
			continue
		}
		specs := g.Specs[:0]
		for _, spec := range g.Specs {
			is := spec.(*ast.ImportSpec)
			path, _ := strconv.Unquote(is.Path.Value)
			name := names[path]
			if is.Name != nil {
				name = is.Name.Name
			}
			if name == "_" || name == "." || used[name] {
				specs = append(specs, spec)
			}
		}
		g.Specs = specs
	}
	imports := f.Imports[:0]
	for _, spec := range f.Imports {
		for _, gd := range f.Decls {
			if g, ok := gd.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
				for _, kept := range g.Specs {
					if kept == spec {
						imports = append(imports, spec)
					}
				}
			}
		}
	}
	f.Imports = imports
	return nil
}

func importName(spec *ast.ImportSpec, path string) string {
	if spec.Name != nil {
		return spec.Name.Name
	}
	return filepath.Base(path)
}

// packageNames asks `go list`, in the package's own module, for the package name of each path.
func packageNames(dir string, paths []string) (map[string]string, error) {
	names := map[string]string{}
	if len(paths) == 0 {
		return names, nil
	}
	sort.Strings(paths)
	cmd := exec.Command("go", append([]string{"list", "-f", "{{.ImportPath}} {{.Name}}"}, paths...)...)
	cmd.Stderr = os.Stderr
	listed, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list of the imports of %s: %w", dir, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(listed)), "\n") {
		if path, name, ok := strings.Cut(line, " "); ok {
			names[path] = name
		}
	}
	return names, nil
}
