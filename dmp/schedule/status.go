package schedule

import (
	"fmt"
	"time"
)

// Status is what the person says of an item (mes-model.md §4: the client
// sends NOT_SPECIFIED, DONE or NOT_DONE; TO_PLAN is computed by the server).
type Status string

const (
	ToPlan       Status = "TO_PLAN"
	NotSpecified Status = "NOT_SPECIFIED"
	Done         Status = "DONE"
	NotDone      Status = "NOT_DONE"
)

// Label is the French label of the status.
func (s Status) Label() string {
	switch s {
	case ToPlan:
		return "À planifier"
	case Done:
		return "Réalisé"
	case NotDone:
		return "Non réalisé"
	}
	return "Non renseigné"
}

// Record is a stored answer, joined to an item by its code.
type Record struct {
	Code     string
	Status   Status
	Executed time.Time // date done, DONE only; zero if not given
}

// Tracked is an item with its status.
type Tracked struct {
	Item
	Status   Status
	Executed time.Time
}

// Check refuses what a client may not store: TO_PLAN (computed), an unknown
// status, a date on anything but DONE, a date in the future or before birth.
func (r Record) Check(birth, today time.Time) error {
	switch r.Status {
	case NotSpecified, Done, NotDone:
	case ToPlan:
		return fmt.Errorf("le statut « À planifier » est calculé, il ne peut pas être enregistré")
	default:
		return fmt.Errorf("statut inconnu %q", r.Status)
	}
	if r.Executed.IsZero() {
		return nil
	}
	if r.Status != Done {
		return fmt.Errorf("une date de réalisation n'est possible que pour un examen réalisé")
	}
	d := civil(r.Executed)
	if d.After(civil(today)) {
		return fmt.Errorf("la date de réalisation ne peut pas être dans le futur")
	}
	if d.Before(civil(birth)) {
		return fmt.Errorf("la date de réalisation ne peut pas être avant la naissance")
	}
	return nil
}

// Track joins records to items. Without a record (or with NOT_SPECIFIED) an
// item is TO_PLAN while its window is open or opens within soon, and
// NOT_SPECIFIED otherwise.
func Track(items []Item, records []Record, today time.Time, soon time.Duration) []Tracked {
	by := make(map[string]Record, len(records))
	for _, r := range records {
		by[r.Code] = r
	}
	limit := civil(today).Add(soon)
	out := make([]Tracked, len(items))
	for i, it := range items {
		t := Tracked{Item: it, Status: NotSpecified}
		if r, ok := by[it.Code]; ok && r.Status != NotSpecified {
			t.Status, t.Executed = r.Status, r.Executed
		} else if w := it.When(today); w == Current || (w == Future && !it.From.After(limit)) {
			t.Status = ToPlan
		}
		out[i] = t
	}
	return out
}
