package main

import (
	"github.com/afesip/homeward/web/mailbox"
	"github.com/afesip/homeward/workers"
)

// registerMail registers the mail and notification jobs. Mail goes out
// through HOMEWARD_SMTP_URL when it is set (always in production); otherwise,
// in demo mode only, into the built-in mailbox, whose page serve mounts.
func (p *platform) registerMail() error {
	workers.RegisterNotifications(p.registry)
	var sender workers.Sender
	if p.cfg.SMTPURL != nil {
		s, err := workers.NewSMTPSender(workers.SMTPConfig{URL: p.cfg.SMTPURL})
		if err != nil {
			return err
		}
		sender = s
	} else {
		box, err := mailbox.New(p.cfg) // refused in production
		if err != nil {
			return err
		}
		p.mailbox, sender = box, box
	}
	workers.RegisterMail(p.registry, &workers.Mailer{Sender: sender, From: p.cfg.MailFrom, BaseURL: p.cfg.BaseURL.String()})
	return nil
}
