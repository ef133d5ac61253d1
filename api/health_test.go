package api

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestReadyz(t *testing.T) {
	down := pinger{err: errors.New("dial tcp 10.0.0.5:5432: connection refused")}
	for _, tc := range []struct {
		name            string
		database, redis Pinger
		status          int
		body            string
	}{
		{"all up", pinger{}, pinger{}, 200, `{"status":"ok","database":"ok","redis":"ok"}`},
		{"redis down", pinger{}, down, 200, `{"status":"degraded","database":"ok","redis":"degraded"}`},
		{"database down", down, pinger{}, 503, `{"status":"unavailable","database":"unavailable","redis":"ok"}`},
		{"both down", down, down, 503, `{"status":"unavailable","database":"unavailable","redis":"degraded"}`},
		{"no redis configured", pinger{}, nil, 200, `{"status":"ok","database":"ok"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, logs := newTestServer(t, Deps{Database: tc.database, Redis: tc.redis}, nil)
			r := get(t, app, "/readyz")
			if r.status != tc.status || r.body != tc.body {
				t.Errorf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.body)
			}
			if strings.Contains(r.body, "10.0.0.5") {
				t.Errorf("the body leaks the failure's detail: %s", r.body)
			}
			if failing := tc.database == down || tc.redis == down; failing != strings.Contains(logs.String(), "connection refused") {
				t.Errorf("log of the failure: want %v:\n%s", failing, logs)
			}
		})
	}
}

// hangingPinger answers only when its context ends.
type hangingPinger struct{}

func (hangingPinger) Ping(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestReadyzGivesUpOnAHangingDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the check timeout")
	}
	// do gives up after 10 s, far beyond checkTimeout: an answer at all
	// means the check stopped waiting.
	app, _ := newTestServer(t, Deps{Database: hangingPinger{}, Redis: pinger{}}, nil)
	r := get(t, app, "/readyz")
	if r.status != 503 || r.body != `{"status":"unavailable","database":"unavailable","redis":"ok"}` {
		t.Errorf("hanging database: %d %s", r.status, r.body)
	}
}
