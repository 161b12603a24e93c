// pulumi-sdkgen writes the Python and the Go SDK of a Pulumi package schema, with the code
// generators of github.com/pulumi/pulumi/pkg/v3 at the CLI's version: what `pulumi package gen-sdk
// SCHEMA --language python|go` writes, without the language hosts (pulumi-language-python and
// -go), to which the CLI delegates it and whose modules the module proxy refuses.
//
//	pulumi-sdkgen [-support-pack] SCHEMA.json OUTDIR
//
// writes OUTDIR/python and OUTDIR/go, each emptied first, as gen-sdk does. The schema is bound
// and validated as gen-sdk binds it (dangling references allowed). It may not depend on other
// packages: nothing here can load their schemas (no plugins, no network), and a reference to one
// fails the generation.
//
// -support-pack generates the SDKs as `pulumi package add` does, which turns the schema's
// supportPack on: the Go SDK is then a module of its own (OUTDIR/go/go.mod) whose import paths
// match its folders. Without it, a package whose name has a dash and whose schema sets no Go
// importBasePath gets Go code in folder NAME-without-dashes that imports .../go/NAME/internal.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// The tool name the generators write into each file's "do not edit" header.
const tool = "pulumi-sdkgen"

// noPackages is a schema loader for a package that references no other package: every load fails.
type noPackages struct{}

var errNoPackages = errors.New("the schema references another package, and pulumi-sdkgen loads none")

func (noPackages) LoadPackage(name string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("package %q: %w", name, errNoPackages)
}

func (noPackages) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, fmt.Errorf("package %q: %w", d.Name, errNoPackages)
}

func (noPackages) LoadPackageReference(name string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("package %q: %w", name, errNoPackages)
}

func (noPackages) LoadPackageReferenceV2(
	_ context.Context, d *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return nil, fmt.Errorf("package %q: %w", d.Name, errNoPackages)
}

// bind reads and binds the schema. Each generator imports its language's section of the package
// into the bound package, so each one gets a package bound anew.
func bind(schemaPath string, supportPack bool) (*schema.Package, error) {
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		return nil, err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("%s: %w", schemaPath, err)
	}
	pkg, diags, err := schema.BindSpec(spec, noPackages{}, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", schemaPath, err)
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s: %w", schemaPath, diags)
	}
	if supportPack {
		pkg.SupportPack = true
	}
	return pkg, nil
}

// write puts the generated files (paths relative to dir, slash-separated) into dir, emptied first.
func write(dir string, files map[string][]byte) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "%s: %d files\n", dir, len(names))
	return nil
}

func run(schemaPath, out string, supportPack bool) error {
	generators := []struct {
		language string
		generate func(*schema.Package) (map[string][]byte, error)
	}{
		{"python", func(pkg *schema.Package) (map[string][]byte, error) {
			return python.GeneratePackage(tool, pkg, nil, noPackages{})
		}},
		{"go", func(pkg *schema.Package) (map[string][]byte, error) {
			return gogen.GeneratePackage(tool, pkg, nil)
		}},
	}
	for _, g := range generators {
		pkg, err := bind(schemaPath, supportPack)
		if err != nil {
			return err
		}
		files, err := g.generate(pkg)
		if err != nil {
			return fmt.Errorf("generating the %s SDK: %w", g.language, err)
		}
		if err := write(filepath.Join(out, g.language), files); err != nil {
			return fmt.Errorf("writing the %s SDK: %w", g.language, err)
		}
	}
	return nil
}

func main() {
	supportPack := flag.Bool("support-pack", false, "generate as `pulumi package add` does (the Go SDK a module of its own)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: pulumi-sdkgen [-support-pack] SCHEMA.json OUTDIR (writes OUTDIR/python and OUTDIR/go)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), *supportPack); err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-sdkgen:", err)
		os.Exit(1)
	}
}
