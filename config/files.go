package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// groupRef is a \1-style reference of static_files to a group of the
// url: such a path names files only at request time.
var groupRef = regexp.MustCompile(`\\[0-9]`)

// missingFiles warns of the files and directories s's error_handlers and
// static handlers name that are not in its directory. They only warn, as
// dev_appserver.py starts with them missing too: until they exist, an
// error the handler covers is answered 500 "Failed to load error
// handler", and a static URL 404.
func missingFiles(s *Service) Diagnostics {
	var ds Diagnostics
	warn := func(pos Pos, format string, args ...any) {
		ds = append(ds, Diagnostic{Pos: pos, Msg: fmt.Sprintf(format, args...), Warning: true})
	}
	for _, eh := range s.ErrorHandlers {
		if !exists(s.Dir, eh.File, false) {
			which := eh.Code + " errors"
			if eh.Code == "default" {
				which = "errors"
			}
			warn(eh.Pos, "error handler file %s does not exist: %s get 500 \"Failed to load error handler\"; create the file or correct the path (relative to the directory of app.yaml)",
				eh.File, which)
		}
	}
	for _, h := range s.Handlers {
		switch {
		case h.StaticDir != "" && !exists(s.Dir, h.StaticDir, true):
			warn(h.Pos, "static_dir %s is not a directory: its URLs answer 404; create it or correct the path (relative to the directory of app.yaml)",
				h.StaticDir)
		case h.StaticFiles != "" && !groupRef.MatchString(h.StaticFiles) && !exists(s.Dir, h.StaticFiles, false):
			warn(h.Pos, "static_files %s does not exist: %s answers 404; create the file or correct the path (relative to the directory of app.yaml)",
				h.StaticFiles, h.URL)
		}
	}
	return ds
}

// exists reports whether rel, relative to dir, is a directory (dir) or a
// file.
func exists(dir, rel string, isDir bool) bool {
	info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
	return err == nil && info.IsDir() == isDir
}
