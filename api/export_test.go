package api

import (
	homeward "github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
)

// PagesForMatrix builds the real web pages (web/pages) on the store, for
// the authorization matrix. web/pages imports this package, so this
// package's own tests cannot import it; the external test package can, and
// sets this in its init (pages_matrix_test.go). One test binary holds both.
var PagesForMatrix func(s *tenants.Store, cfg *homeward.Config) (Pages, error)

// MatrixDocuments is the document storage of the matrix's servers
// (matrixDocuments), for the real pages to read the matrix's documents.
var MatrixDocuments = matrixDocuments
