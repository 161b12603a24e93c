package provider

import (
	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"github.com/hashicorp/terraform-provider-tls/shim"
)

// Info maps the Terraform tls provider onto the Pulumi package "tls" (tls_foo_bar -> tls:index/fooBar:FooBar).
func Info(version string, metadata []byte) tfbridge.ProviderInfo {
	res := func(name string) *tfbridge.ResourceInfo {
		return &tfbridge.ResourceInfo{Tok: tfbridge.MakeResource("tls", "index", name)}
	}
	ds := func(name string) *tfbridge.DataSourceInfo {
		return &tfbridge.DataSourceInfo{Tok: tfbridge.MakeDataSource("tls", "index", name)}
	}
	return tfbridge.ProviderInfo{
		P:            pf.ShimProvider(shim.NewProvider()),
		Name:         "tls",
		Version:      version,
		Description:  "A Pulumi package to create TLS resources in Pulumi programs.",
		License:      "Apache-2.0",
		Repository:   "https://github.com/pulumi/pulumi-tls",
		GitHubOrg:    "hashicorp",
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Resources: map[string]*tfbridge.ResourceInfo{
			"tls_cert_request":        res("CertRequest"),
			"tls_locally_signed_cert": res("LocallySignedCert"),
			"tls_private_key":         res("PrivateKey"),
			"tls_self_signed_cert":    res("SelfSignedCert"),
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"tls_public_key":  ds("getPublicKey"),
			"tls_certificate": ds("getCertificate"),
		},
		JavaScript:                     &tfbridge.JavaScriptInfo{RespectSchemaVersion: true},
		EnableZeroDefaultSchemaVersion: true,
	}
}
