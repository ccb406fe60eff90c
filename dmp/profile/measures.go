package profile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"mssanted/db"
	"mssanted/directory"
	"mssanted/dmp"
)

// Measure codes (mes-model.md MeasureCode). BODY_MASS_INDEX is computed
// from the latest weight and height, never entered.
const (
	Weight             = "WEIGHT"
	Height             = "HEIGHT"
	BloodPressure      = "BLOOD_PRESSURE"
	Glucose            = "GLUCOSE"
	HeartRate          = "HEART_RATE"
	BodyTemperature    = "BODY_TEMPERATURE"
	WaistCircumference = "WAIST_CIRCUMFERENCE"
	HeadCircumference  = "HEAD_CIRCUMFERENCE"
	GlycatedHemoglobin = "GLYCATED_HEMOGLOBIN"
	PainSeverity       = "PAIN_SEVERITY"
	StepsByDay         = "STEPS_BY_DAY"
	BodyMassIndex      = "BODY_MASS_INDEX"
)

// MeasureSpec is what a measure is: its label, its unit, the other units
// accepted (converted), and the plausible range of its values.
type MeasureSpec struct {
	Code     string  `json:"code"`
	Label    string  `json:"label"`
	Unit     string  `json:"unit"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Integer  bool    `json:"integer,omitempty"`
	Decimals int     `json:"-"`
	// The second metric (diastolic pressure) when there is one.
	Label2     string             `json:"label2,omitempty"`
	Min2, Max2 float64            `json:"-"`
	convert    map[string]float64 // other unit -> factor to Unit
}

// MeasureSpecs are the measures, in the order the profile shows them.
// Ranges are plausible values (what a person may really measure, not what
// is healthy): anything outside is a typing mistake.
var MeasureSpecs = []MeasureSpec{
	{Code: Weight, Label: "Poids", Unit: "kg", Min: 0.3, Max: 400, Decimals: 1, convert: map[string]float64{"g": 0.001}},
	{Code: Height, Label: "Taille", Unit: "cm", Min: 20, Max: 260, Decimals: 1, convert: map[string]float64{"m": 100}},
	{Code: BloodPressure, Label: "Tension artérielle", Unit: "mmHg", Min: 50, Max: 300, Integer: true, Label2: "diastolique", Min2: 20, Max2: 200},
	{Code: Glucose, Label: "Glycémie", Unit: "g/L", Min: 0.2, Max: 6, Decimals: 2, convert: map[string]float64{"mg/dl": 0.01, "mmol/l": 0.18}},
	{Code: HeartRate, Label: "Fréquence cardiaque", Unit: "bpm", Min: 20, Max: 250, Integer: true},
	{Code: BodyTemperature, Label: "Température", Unit: "°C", Min: 30, Max: 45, Decimals: 1},
	{Code: WaistCircumference, Label: "Tour de taille", Unit: "cm", Min: 30, Max: 250, Decimals: 1},
	{Code: HeadCircumference, Label: "Périmètre crânien", Unit: "cm", Min: 20, Max: 70, Decimals: 1},
	{Code: GlycatedHemoglobin, Label: "Hémoglobine glyquée (HbA1c)", Unit: "%", Min: 3, Max: 20, Decimals: 1},
	{Code: PainSeverity, Label: "Douleur", Unit: "/10", Min: 0, Max: 10, Integer: true},
	{Code: StepsByDay, Label: "Nombre de pas par jour", Unit: "pas", Min: 0, Max: 100000, Integer: true},
}

// SpecOf returns the spec of a measure code.
func SpecOf(code string) (MeasureSpec, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	for _, s := range MeasureSpecs {
		if s.Code == code {
			return s, true
		}
	}
	return MeasureSpec{}, false
}

// NewMeasure is a measurement the person enters.
type NewMeasure struct {
	Code      string
	Value     float64  // systolic for blood pressure
	Diastolic *float64 // blood pressure only
	Unit      string   // "": the measure's unit
	Date      time.Time
	Comment   string
}

// Measure is one measurement of the history.
type Measure struct {
	ID        int64     `json:"id"`
	Code      string    `json:"code"`
	Label     string    `json:"label"`
	Value     float64   `json:"value"`
	Diastolic *float64  `json:"diastolic,omitempty"`
	Unit      string    `json:"unit"`
	Date      time.Time `json:"date"`
	Comment   string    `json:"comment,omitempty"`
	Formatted string    `json:"formatted"` // "72,5 kg", "120/80 mmHg"
}

func frenchNumber(v float64, decimals int) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', decimals, 64), ".", ",", 1)
}

// shortNumber is frenchNumber without trailing zeros: "72,5", "80".
func shortNumber(v float64, decimals int) string {
	s := frenchNumber(v, decimals)
	if strings.Contains(s, ",") {
		s = strings.TrimSuffix(strings.TrimRight(s, "0"), ",")
	}
	return s
}

func (m *Measure) format(spec MeasureSpec) {
	dec := spec.Decimals
	if spec.Integer {
		dec = 0
	}
	v := shortNumber(m.Value, dec)
	if m.Diastolic != nil {
		v += "/" + frenchNumber(*m.Diastolic, 0)
	}
	sep := " "
	if spec.Unit == "/10" {
		sep = ""
	}
	m.Formatted = v + sep + spec.Unit
}

func (s *Store) checkMeasure(person *directory.Account, n *NewMeasure) (MeasureSpec, error) {
	code := strings.ToUpper(strings.TrimSpace(n.Code))
	if code == BodyMassIndex {
		return MeasureSpec{}, invalid("L'IMC est calculé à partir du poids et de la taille : saisissez-les", "the BMI is computed from weight and height")
	}
	spec, ok := SpecOf(code)
	if !ok {
		return spec, invalid("Mesure inconnue", "unknown measure code")
	}
	n.Code = code
	unit := strings.TrimSpace(n.Unit)
	if unit != "" && !strings.EqualFold(unit, spec.Unit) {
		f, ok := spec.convert[strings.ToLower(unit)]
		if !ok {
			return spec, invalid(fmt.Sprintf("Unité non reconnue pour %s : %s", strings.ToLower(spec.Label), spec.Unit),
				fmt.Sprintf("unit not accepted for %s: %s", code, spec.Unit))
		}
		n.Value *= f
	}
	n.Unit = spec.Unit
	if math.IsNaN(n.Value) || math.IsInf(n.Value, 0) {
		return spec, invalid("Valeur invalide", "invalid value")
	}
	if spec.Integer {
		n.Value = math.Round(n.Value)
	} else {
		p := math.Pow(10, float64(spec.Decimals))
		n.Value = math.Round(n.Value*p) / p
	}
	if n.Value < spec.Min || n.Value > spec.Max {
		return spec, invalid(fmt.Sprintf("%s : la valeur doit être entre %s et %s %s", spec.Label, frenchNumber(spec.Min, spec.Decimals), frenchNumber(spec.Max, spec.Decimals), spec.Unit),
			fmt.Sprintf("%s must be between %g and %g %s", code, spec.Min, spec.Max, spec.Unit))
	}
	if spec.Label2 != "" {
		if n.Diastolic == nil {
			return spec, invalid("Tension artérielle : indiquez la systolique et la diastolique", "blood pressure needs systolic and diastolic values")
		}
		d := math.Round(*n.Diastolic)
		if d < spec.Min2 || d > spec.Max2 {
			return spec, invalid(fmt.Sprintf("Tension diastolique : la valeur doit être entre %g et %g mmHg", spec.Min2, spec.Max2), "diastolic out of range")
		}
		if d >= n.Value {
			return spec, invalid("La tension systolique doit être supérieure à la diastolique", "systolic must exceed diastolic")
		}
		n.Diastolic = &d
	} else if n.Diastolic != nil {
		return spec, invalid("Seule la tension artérielle a une seconde valeur", "only blood pressure has a second value")
	}
	if n.Date.IsZero() {
		return spec, invalid("Date de la mesure : champ obligatoire", "date: required")
	}
	if n.Date.After(s.now().Add(time.Hour)) {
		return spec, invalid("La date de la mesure est dans le futur", "the measure's date is in the future")
	}
	if person.Patient != nil && !person.Patient.BirthDate.IsZero() && n.Date.Before(person.Patient.BirthDate) {
		return spec, invalid("La date de la mesure précède la date de naissance", "the measure's date is before the birth date")
	}
	if err := comment(&n.Comment, 500); err != nil {
		return spec, err
	}
	return spec, nil
}

const measureColumns = `id, code, value, value2, measured_at, comment`

func scanMeasure(sc interface{ Scan(...any) error }) (*Measure, error) {
	var m Measure
	var v2 sql.NullFloat64
	var at int64
	if err := sc.Scan(&m.ID, &m.Code, &m.Value, &v2, &at, &m.Comment); err != nil {
		return nil, err
	}
	if v2.Valid {
		m.Diastolic = &v2.Float64
	}
	m.Date = db.Time(at)
	spec, _ := SpecOf(m.Code)
	m.Label, m.Unit = spec.Label, spec.Unit
	m.format(spec)
	return &m, nil
}

// AddMeasure records a measurement.
func (s *Store) AddMeasure(ctx context.Context, actor *directory.Account, personID int64, n NewMeasure) (*Measure, error) {
	return s.saveMeasure(ctx, actor, personID, 0, n)
}

// UpdateMeasure corrects a measurement.
func (s *Store) UpdateMeasure(ctx context.Context, actor *directory.Account, personID, id int64, n NewMeasure) (*Measure, error) {
	if id <= 0 {
		return nil, dmp.ErrNotFound
	}
	return s.saveMeasure(ctx, actor, personID, id, n)
}

func (s *Store) saveMeasure(ctx context.Context, actor *directory.Account, personID, id int64, n NewMeasure) (*Measure, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	if _, err := s.checkMeasure(person, &n); err != nil {
		return nil, err
	}
	var v2 any
	if n.Diastolic != nil {
		v2 = *n.Diastolic
	}
	if id == 0 {
		err = s.db.Write().QueryRowContext(ctx, `INSERT INTO profile_measures (person_id, code, value, value2, unit, measured_at, comment, author_id, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			person.ID, n.Code, n.Value, v2, n.Unit, db.Micros(n.Date), n.Comment, actor.ID, db.Micros(s.now())).Scan(&id)
	} else {
		var res sql.Result
		res, err = s.db.Write().ExecContext(ctx, `UPDATE profile_measures SET code = $1, value = $2, value2 = $3, unit = $4, measured_at = $5, comment = $6, author_id = $7
			WHERE id = $8 AND person_id = $9`, n.Code, n.Value, v2, n.Unit, db.Micros(n.Date), n.Comment, actor.ID, id, person.ID)
		if err == nil {
			if k, _ := res.RowsAffected(); k == 0 {
				return nil, dmp.ErrNotFound
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("profile: save measure: %w", err)
	}
	return scanMeasure(s.db.Read().QueryRowContext(ctx, `SELECT `+measureColumns+` FROM profile_measures WHERE id = $1`, id))
}

// DeleteMeasure removes a measurement.
func (s *Store) DeleteMeasure(ctx context.Context, actor *directory.Account, personID, id int64) error {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return err
	}
	res, err := s.db.Write().ExecContext(ctx, `DELETE FROM profile_measures WHERE id = $1 AND person_id = $2`, id, person.ID)
	if err != nil {
		return fmt.Errorf("profile: delete measure: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return dmp.ErrNotFound
	}
	return nil
}

// Measures is the history of one measure, newest first (at most 1000).
func (s *Store) Measures(ctx context.Context, actor *directory.Account, personID int64, code string) ([]Measure, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	spec, ok := SpecOf(code)
	if !ok {
		return nil, invalid("Mesure inconnue", "unknown measure code")
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+measureColumns+` FROM profile_measures WHERE person_id = $1 AND code = $2
		ORDER BY measured_at DESC, id DESC LIMIT 1000`, person.ID, spec.Code)
	if err != nil {
		return nil, fmt.Errorf("profile: measures: %w", err)
	}
	defer rows.Close()
	out := []Measure{}
	for rows.Next() {
		m, err := scanMeasure(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

// BMI is the body-mass index computed from the latest weight and height.
type BMI struct {
	Value    float64   `json:"value"`
	Unit     string    `json:"unit"`
	Category string    `json:"category,omitempty"` // adults only (children follow growth curves)
	WeightID int64     `json:"weight_id"`
	HeightID int64     `json:"height_id"`
	Date     time.Time `json:"date"` // the later of the two
}

// MeasureOverview is the latest value of each measure, and the BMI.
type MeasureOverview struct {
	Latest []Measure `json:"latest"`
	BMI    *BMI      `json:"bmi,omitempty"`
}

// LatestMeasures returns the latest value of each measure and the BMI.
func (s *Store) LatestMeasures(ctx context.Context, actor *directory.Account, personID int64) (*MeasureOverview, error) {
	person, err := s.act(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	o, err := s.overview(ctx, person.ID)
	if err != nil {
		return nil, err
	}
	if o.BMI != nil && !adult(person, s.now()) {
		o.BMI.Category = ""
	}
	return o, nil
}

func (s *Store) overview(ctx context.Context, personID int64) (*MeasureOverview, error) {
	o := &MeasureOverview{Latest: []Measure{}}
	var weight, height *Measure
	for _, spec := range MeasureSpecs {
		m, err := scanMeasure(s.db.Read().QueryRowContext(ctx, `SELECT `+measureColumns+` FROM profile_measures WHERE person_id = $1 AND code = $2
			ORDER BY measured_at DESC, id DESC LIMIT 1`, personID, spec.Code))
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("profile: latest %s: %w", spec.Code, err)
		}
		o.Latest = append(o.Latest, *m)
		switch spec.Code {
		case Weight:
			weight = m
		case Height:
			height = m
		}
	}
	if weight != nil && height != nil {
		h := height.Value / 100
		b := &BMI{Value: math.Round(weight.Value/(h*h)*10) / 10, Unit: "kg/m²", WeightID: weight.ID, HeightID: height.ID, Date: weight.Date}
		if height.Date.After(b.Date) {
			b.Date = height.Date
		}
		b.Category = bmiCategory(b.Value)
		o.BMI = b
	}
	return o, nil
}

// bmiCategory is the WHO classification for adults.
func bmiCategory(v float64) string {
	switch {
	case v < 18.5:
		return "insuffisance pondérale"
	case v < 25:
		return "corpulence normale"
	case v < 30:
		return "surpoids"
	}
	return "obésité"
}

// adult tells whether the person is 18 or older at now; false when the
// birth date is unknown.
func adult(person *directory.Account, now time.Time) bool {
	if person.Patient == nil || person.Patient.BirthDate.IsZero() {
		return false
	}
	return !person.Patient.BirthDate.AddDate(18, 0, 0).After(now)
}
