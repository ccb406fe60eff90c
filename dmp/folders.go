package dmp

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"mssanted/db"
	"mssanted/directory"
	"mssanted/internal/ascii"
)

// fold is how titles are compared in a search: accents and case ignored.
func fold(s string) string { return strings.ToLower(ascii.Fold(s)) }

// Folder is a folder of the library ("Fracture épaule", 7 documents).
type Folder struct {
	ID        int64
	Name      string
	Documents int
}

func folderName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 || strings.ContainsAny(name, "\r\n") {
		return "", invalid("Le nom du dossier doit faire de 1 à 100 caractères", "a folder name is 1 to 100 characters")
	}
	return name, nil
}

// Folders lists the patient's folders with their document counts.
func (s *Store) Folders(ctx context.Context, actor *directory.Account) ([]Folder, error) {
	return s.FoldersFor(ctx, actor, 0)
}

// FoldersFor lists the folders of a person the actor acts for (0: self).
func (s *Store) FoldersFor(ctx context.Context, actor *directory.Account, personID int64) ([]Folder, error) {
	person, err := s.ActFor(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT f.id, f.name,
		(SELECT count(*) FROM documents d WHERE d.folder_id = f.id AND d.deleted_at IS NULL AND d.invisible_patient = FALSE)
		FROM document_folders f WHERE f.patient_id = $1 ORDER BY f.name`, person.ID)
	if err != nil {
		return nil, fmt.Errorf("dmp: folders: %w", err)
	}
	defer rows.Close()
	var out []Folder
	for rows.Next() {
		var f Folder
		if err := rows.Scan(&f.ID, &f.Name, &f.Documents); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// CreateFolder makes a folder.
func (s *Store) CreateFolder(ctx context.Context, actor *directory.Account, name string) (*Folder, error) {
	return s.CreateFolderFor(ctx, actor, 0, name)
}

// CreateFolderFor makes a folder in the library of a person the actor
// acts for (0: self).
func (s *Store) CreateFolderFor(ctx context.Context, actor *directory.Account, personID int64, name string) (*Folder, error) {
	person, err := s.ActFor(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	name, err = folderName(name)
	if err != nil {
		return nil, err
	}
	f := &Folder{Name: name}
	err = s.db.Write().QueryRowContext(ctx, `INSERT INTO document_folders (patient_id, name, created_at) VALUES ($1, $2, $3) RETURNING id`,
		person.ID, name, db.Micros(s.now())).Scan(&f.ID)
	if db.IsUniqueViolation(err) {
		return nil, invalid("Un dossier porte déjà ce nom", "a folder has that name")
	}
	if err != nil {
		return nil, fmt.Errorf("dmp: create folder: %w", err)
	}
	return f, nil
}

// RenameFolder renames one of the patient's folders.
func (s *Store) RenameFolder(ctx context.Context, actor *directory.Account, id int64, name string) error {
	return s.RenameFolderFor(ctx, actor, 0, id, name)
}

// RenameFolderFor renames a folder of a person the actor acts for.
func (s *Store) RenameFolderFor(ctx context.Context, actor *directory.Account, personID, id int64, name string) error {
	person, err := s.ActFor(ctx, actor, personID)
	if err != nil {
		return err
	}
	name, err = folderName(name)
	if err != nil {
		return err
	}
	res, err := s.db.Write().ExecContext(ctx, `UPDATE document_folders SET name = $1 WHERE id = $2 AND patient_id = $3`, name, id, person.ID)
	if db.IsUniqueViolation(err) {
		return invalid("Un dossier porte déjà ce nom", "a folder has that name")
	}
	if err != nil {
		return fmt.Errorf("dmp: rename folder: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteFolder deletes a folder; its documents go back to the root.
func (s *Store) DeleteFolder(ctx context.Context, actor *directory.Account, id int64) error {
	return s.DeleteFolderFor(ctx, actor, 0, id)
}

// DeleteFolderFor deletes a folder of a person the actor acts for.
func (s *Store) DeleteFolderFor(ctx context.Context, actor *directory.Account, personID, id int64) error {
	person, err := s.ActFor(ctx, actor, personID)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE documents SET folder_id = NULL WHERE folder_id = $1 AND patient_id = $2`, id, person.ID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM document_folders WHERE id = $1 AND patient_id = $2`, id, person.ID)
		if err != nil {
			return fmt.Errorf("dmp: delete folder: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}
