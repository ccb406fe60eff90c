package care

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"mssanted/db"
	"mssanted/directory"
	"mssanted/dmp/ical"
	"mssanted/dmp/schedule"
)

// The agenda's iCalendar feed: a secret URL per person, so the agenda shows
// in the person's calendar application. The token is the only credential
// (calendar applications send no session), so it is long and random, only
// its SHA-256 is stored, and creating a new one revokes the old.

// Feed is the state of a person's feed.
type Feed struct {
	Active    bool
	CreatedAt time.Time
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte("mssanted agenda feed\x00" + token))
	return hex.EncodeToString(h[:])
}

// CreateFeed creates (or replaces) the person's feed token and returns it;
// it is shown once: only its hash is kept.
func (s *Store) CreateFeed(ctx context.Context, actor *directory.Account, personID int64) (string, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	_, err = s.db.Write().ExecContext(ctx, `INSERT INTO agenda_feeds (person_id, token_sha256, created_at, created_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (person_id) DO UPDATE SET token_sha256 = excluded.token_sha256, created_at = excluded.created_at, created_by = excluded.created_by`,
		person.ID, tokenHash(token), db.Micros(s.now()), actor.ID)
	if err != nil {
		return "", fmt.Errorf("care: feed: %w", err)
	}
	return token, nil
}

// FeedState tells whether the person has a feed and since when.
func (s *Store) FeedState(ctx context.Context, actor *directory.Account, personID int64) (Feed, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return Feed{}, err
	}
	var created int64
	err = s.db.Read().QueryRowContext(ctx, `SELECT created_at FROM agenda_feeds WHERE person_id = $1`, person.ID).Scan(&created)
	if isNoRows(err) {
		return Feed{}, nil
	}
	if err != nil {
		return Feed{}, fmt.Errorf("care: feed: %w", err)
	}
	return Feed{Active: true, CreatedAt: db.Time(created)}, nil
}

// DeleteFeed revokes the person's feed.
func (s *Store) DeleteFeed(ctx context.Context, actor *directory.Account, personID int64) error {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return err
	}
	if _, err := s.db.Write().ExecContext(ctx, `DELETE FROM agenda_feeds WHERE person_id = $1`, person.ID); err != nil {
		return fmt.Errorf("care: feed: %w", err)
	}
	return nil
}

// FeedCalendar is the agenda of the feed whose token is given, the whole
// life ("Tous"), as an iCalendar: one VEVENT per entry. The token stands for
// its maker, who must still be allowed to act for the person (ActFor): a
// feed made by a representative dies with the representation. An unknown
// token is dmp.ErrNotFound. uidDomain makes the UIDs globally unique
// (RFC 5545 §3.8.4.7), e.g. the web host name.
func (s *Store) FeedCalendar(ctx context.Context, token, uidDomain string) (*ical.Calendar, error) {
	token = strings.TrimSpace(token)
	if len(token) < 40 || len(token) > 64 {
		return nil, notFound("no such feed")
	}
	var personID, makerID int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT person_id, created_by FROM agenda_feeds WHERE token_sha256 = $1`, tokenHash(token)).
		Scan(&personID, &makerID)
	if isNoRows(err) {
		return nil, notFound("no such feed")
	}
	if err != nil {
		return nil, fmt.Errorf("care: feed: %w", err)
	}
	maker, err := s.dir.ByID(ctx, makerID)
	if err != nil {
		return nil, notFound("no such feed")
	}
	person, err := s.act(ctx, maker, personID)
	if err != nil {
		return nil, notFound("no such feed")
	}
	today := s.Today()
	entries, err := s.agenda(ctx, profileOf(person), today, AgendaQuery{All: true})
	if err != nil {
		return nil, err
	}
	cal := &ical.Calendar{Name: "Agenda santé — " + person.DisplayName, Stamp: s.now().UTC()}
	pid := strconv.FormatInt(person.ID, 10)
	for _, e := range entries {
		cal.Events = append(cal.Events, s.icalEvent(e, pid, uidDomain))
	}
	return cal, nil
}

func (s *Store) icalEvent(e Entry, personID, uidDomain string) ical.Event {
	ev := ical.Event{UID: ical.StableUID(uidDomain, "agenda", personID, e.ID), Summary: e.Title, Categories: []string{TypeLabel(e.Type)}}
	var desc []string
	if e.Event != nil {
		ev.Location = e.Event.Address
		if e.Event.With != "" {
			w := e.Event.With
			if e.Event.Speciality != "" {
				w += " (" + e.Event.Speciality + ")"
			}
			desc = append(desc, w)
		}
		if e.Event.Notes != "" {
			desc = append(desc, e.Event.Notes)
		}
		if t, err := time.ParseInLocation("2006-01-02 15:04", fmtDate(e.Event.Date)+" "+e.Event.Time, s.loc); err == nil && e.Event.Time != "" {
			ev.Start, ev.End = t, t.Add(time.Hour)
		} else {
			ev.AllDay, ev.Start = true, e.Event.Date
		}
	} else {
		ev.AllDay, ev.Start, ev.End = true, e.From, e.To
		if e.Label != "" {
			desc = append(desc, e.Label)
		}
		st := "Statut : " + e.Status.Label()
		if e.Status == schedule.Done && !e.Executed.IsZero() {
			st += " le " + e.Executed.Format("02/01/2006")
		}
		desc = append(desc, st, e.Requirement.Label())
		if e.Note != "" {
			desc = append(desc, e.Note)
		}
		if len(e.Sources) > 0 {
			ev.URL = e.Sources[0].URL
		}
	}
	ev.Description = strings.Join(desc, "\n")
	return ev
}
