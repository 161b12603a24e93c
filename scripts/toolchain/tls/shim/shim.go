// Package shim exposes the upstream provider, whose constructor is in an internal package.
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"
	upstream "github.com/hashicorp/terraform-provider-tls/internal/provider"
)

func NewProvider() provider.Provider { return upstream.New() }
