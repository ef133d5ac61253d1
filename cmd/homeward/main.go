// Command homeward is the one binary of Homeward: the web server, the
// background worker, the scheduler, migrations, demo data and operator
// commands. `homeward --help` lists them.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr))
}
