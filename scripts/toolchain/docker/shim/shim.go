// Package shim exposes the upstream provider's SDKv2 part, whose constructor is in an internal package.
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	upstream "github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

func NewProvider(version string) *schema.Provider { return upstream.New(version)() }
