package cases_test

import (
	"errors"

	homeward "github.com/afesip/homeward"
)

func asError(err error, target **homeward.Error) bool { return errors.As(err, target) }
