package main

import (
	"os"
	"testing"

	"github.com/afesip/homeward/tenants/tenanttest"
)

func TestMain(m *testing.M) { os.Exit(tenanttest.Main(m)) }
