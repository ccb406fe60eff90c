package ascii

import "testing"

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Adresse inconnue / No such mailbox":    "Adresse inconnue / No such mailbox",
		"Relais refusé : x n'est pas servi ici": "Relais refuse : x n'est pas servi ici",
		"Ce dossier existe déjà":                "Ce dossier existe deja",
		"« Œuvre » du cœur":                     "\" OEuvre \" du coeur",
		"Autre Opérateur\x00\x7f\u00a0ok 日本":    "Autre Operateur?? ok ??",
		"L’équipe":                              "L'equipe",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}
