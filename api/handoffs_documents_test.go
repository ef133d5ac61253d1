package api

import (
	"fmt"
	"testing"

	"github.com/afesip/homeward/tenants"
)

// TestSharedDocumentThroughTheAPI: the Thai partner shares an identity
// document with the handoff; AFESIP Laos's case manager downloads its copy
// before the acceptance (the content as uploaded, an attachment under its
// name, not cached). Denied, beside that control: the Malaysian partner
// (a third organisation: 404), Laos's counsellor (no handoff permission:
// 403), Laos's social worker (its "own" does not reach an incoming
// handoff: 404), the sender asking for the receiver's copy (404), the
// receiver asking for the sender's original (404); after the withdrawal
// the copy is gone (404).
func TestSharedDocumentThroughTheAPI(t *testing.T) {
	w := newHandoffWorld(t)
	caseID := w.thCase(t, "", true)
	doc := want(t, call(t, w.app, "POST", "/api/v1/cases/"+caseID+"/documents", w.thCM, matrixUpload(tenants.FieldGroupIdentity)),
		201, "the sender's upload")
	original := fmt.Sprint(doc["id"])
	body := fmt.Sprintf(`{"partnership_id":%q,"case_id":%q,"fields":["prs_FirstName"],"documents":[%q]}`,
		w.partnershipTH, caseID, original)
	id := fmt.Sprint(want(t, call(t, w.app, "POST", "/api/v1/handoffs", w.thCM, body), 201, "start")["id"])

	got := want(t, call(t, w.app, "GET", "/api/v1/handoffs/"+id, w.laosCM, ""), 200, "the receiver reads the handoff")
	shared, _ := got["shared"].(map[string]any)
	docs, _ := shared["documents"].([]any)
	if len(docs) != 1 {
		t.Fatalf("the receiver's shared documents: %v", got["shared"])
	}
	copyID := fmt.Sprint(docs[0].(map[string]any)["id"])
	path := "/api/v1/handoffs/" + id + "/documents/" + copyID

	r := call(t, w.app, "GET", path, w.laosCM, "")
	if r.status != 200 || r.body != "A support plan." || r.header.Get("Content-Disposition") != "attachment; filename=plan.txt" ||
		r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("the receiver's download: %d %q %v", r.status, r.body, r.header)
	}

	for _, c := range []struct {
		what, caller, path string
		status             int
	}{
		{"a third organisation", w.myCM, path, 404},
		{"the receiver's counsellor", w.laosCounsellor, path, 403},
		{"the receiver's social worker", w.laosSocialWork, path, 404},
		{"the sender asks for the receiver's copy", w.thCM, path, 404},
		{"the receiver asks for the sender's original", w.laosCM, "/api/v1/handoffs/" + id + "/documents/" + original, 404},
		{"a document id that is none", w.laosCM, "/api/v1/handoffs/" + id + "/documents/passport", 404},
	} {
		if r := call(t, w.app, "GET", c.path, c.caller, ""); r.status != c.status {
			t.Errorf("%s: %d, want %d: %.200s", c.what, r.status, c.status, r.body)
		}
	}

	want(t, call(t, w.app, "POST", "/api/v1/handoffs/"+id+"/withdraw", w.thCM, `{"reason":"the family was found"}`), 200, "withdraw")
	if r := call(t, w.app, "GET", path, w.laosCM, ""); r.status != 404 {
		t.Fatalf("after the withdrawal: %d, want 404: %.200s", r.status, r.body)
	}
}
