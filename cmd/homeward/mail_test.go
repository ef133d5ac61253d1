package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/afesip/homeward"
	"github.com/afesip/homeward/tenants"
	"github.com/afesip/homeward/web/emails"
	"gorm.io/gorm"
)

// TestDemoServeKeepsMailInItsMailbox: a mail queued while demo serve runs
// (here by a second process on the same database) goes through serve's own
// relay and worker into the built-in mailbox, whose page shows it.
func TestDemoServeKeepsMailInItsMailbox(t *testing.T) {
	env := demoEnv(t)
	env["HOMEWARD_ADDR"] = "127.0.0.1:0"
	s := startServe(t, env, "")
	if code, body := get(t, s.url+"/demo/mailbox"); code != 200 || !strings.Contains(body, "Demo mailbox") {
		t.Fatalf("/demo/mailbox = %d %.300s", code, body)
	}

	ctx := context.Background()
	cfg, _, err := homeward.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	store, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	laos, err := store.TenantBySlug(ctx, "afesip-laos")
	if err != nil {
		t.Fatal(err)
	}
	err = store.InTenant(ctx, laos.ID, func(tx *gorm.DB) error {
		_, err := tenants.QueueMail(tx, tenants.Mail{To: "director@afesip.example", Template: "platform:test", Language: "lo"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want, err := emails.Render("platform:test", "lo", emails.Data{Organisation: laos.Name})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the mail shows in the mailbox", func() bool {
		_, body := get(t, s.url+"/demo/mailbox")
		return strings.Contains(body, want.Subject) && strings.Contains(body, "director@afesip.example")
	})
}
