package mailinglist

import "net/http"

// routes registers the lists' pages on mux: the whole table.
func (s *Service) routes(mux *http.ServeMux) {
	sh := s.cfg.Shell

	// Public pages.
	mux.HandleFunc("GET /lists/{$}", s.directory)
	mux.HandleFunc("GET /lists/{list}/{$}", s.listPage)
	mux.HandleFunc("GET /lists/{file}", s.listFile) // NAME.atom, archive.css
	mux.HandleFunc("GET /lists/{list}/{yyyy}/{mm}/{$}", s.monthPage)
	mux.HandleFunc("GET /lists/{list}/t/{thread}", s.threadPage) // and {thread}.atom
	mux.HandleFunc("GET /lists/{list}/m/{id}", s.messagePage)
	mux.HandleFunc("GET /lists/{list}/m/{id}/raw", s.rawMessage)
	mux.HandleFunc("GET /lists/{list}/m/{id}/a/{n}", s.attachment)
	mux.HandleFunc("GET /lists/{list}/m/{id}/erase", s.eraseForm)
	mux.HandleFunc("POST /lists/{list}/m/{id}/erase", s.erase)
	mux.HandleFunc("GET /lists/{list}/mbox/{month}", s.mboxMonth)
	mux.HandleFunc("POST /lists/{list}/login", s.requestLogin)
	mux.HandleFunc("GET /lists/{list}/login/{token}", s.loginLinkForm)
	mux.HandleFunc("POST /lists/{list}/login/{token}", s.login)
	mux.HandleFunc("POST /lists/{list}/logout", s.logout)
	mux.HandleFunc("GET /lists/{list}/subscribe", s.subscribeForm)
	mux.HandleFunc("POST /lists/{list}/subscribe", s.subscribe)
	mux.HandleFunc("GET /lists/{list}/confirm/{token}", s.confirmForm)
	mux.HandleFunc("POST /lists/{list}/confirm/{token}", s.confirm)
	mux.HandleFunc("GET /lists/{list}/member/{token}", s.memberForm)
	mux.HandleFunc("POST /lists/{list}/member/{token}", s.memberSave)
	mux.HandleFunc("GET /lists/{list}/unsubscribe/{token}", s.unsubscribeForm)
	mux.HandleFunc(unsubscribePattern, s.unsubscribe) // exempt from CSRF checks: see initWeb

	// Lists and mail: administrators.
	mux.Handle("GET /admin/lists", sh.RequireAdmin(s.adminLists))
	mux.Handle("POST /admin/lists", sh.RequireAdmin(s.adminCreateList))
	mux.Handle("GET /admin/lists/{list}", sh.RequireAdmin(s.adminList))
	mux.Handle("POST /admin/lists/{list}", sh.RequireAdmin(s.adminSaveList))
	mux.Handle("POST /admin/lists/{list}/delete", sh.RequireAdmin(s.adminDeleteList))
	mux.Handle("GET /admin/lists/{list}/members", sh.RequireAdmin(s.adminMembers))
	mux.Handle("GET /admin/lists/{list}/members.csv", sh.RequireAdmin(s.adminExportMembers))
	mux.Handle("POST /admin/lists/{list}/members/add", sh.RequireAdmin(s.adminAddMember))
	mux.Handle("POST /admin/lists/{list}/members/remove", sh.RequireAdmin(s.adminRemoveMember))
	mux.Handle("POST /admin/lists/{list}/members/mode", sh.RequireAdmin(s.adminSetMode))
	mux.Handle("POST /admin/lists/{list}/members/import", sh.RequireAdmin(s.adminImportMembers))
	mux.Handle("GET /admin/mail", sh.RequireAdmin(s.adminMail))
	mux.Handle("POST /admin/mail", sh.RequireAdmin(s.adminSaveMail))

	// Moderation: administrators and moderators.
	mux.Handle("GET /admin/moderation", sh.RequireStaff(s.moderation))
	mux.Handle("GET /admin/moderation/{list}/{id}", sh.RequireStaff(s.moderationMessage))
	mux.Handle("POST /admin/moderation/{list}/{id}", sh.RequireStaff(s.moderate))
}
