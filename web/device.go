package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
)

// DeviceCookie names the device cookie of OWASP's "slow down online guessing
// attacks with device cookies": a browser that signed in as a user before
// carries a signed token for that user, and its sign-ins are exempt from the
// per-email bound that guesses from many addresses can exhaust. It has its
// own small per-cookie limit, and a cookie with too many failures is locked
// out (its sign-ins are then untrusted, under the per-email bound again).
const DeviceCookie = "__Host-occsimore_device"

// deviceCookieTTL is how long a browser stays trusted after a sign-in; every
// successful sign-in issues a fresh cookie.
const deviceCookieTTL = 180 * 24 * time.Hour

// maxDeviceCookie bounds the cookie read: a larger one is not ours.
const maxDeviceCookie = 300

// device is a device cookie whose signature holds for the email signed in
// with.
type device struct {
	userID string
	nonce  string // the cookie's own key in the per-device limiters
}

// deviceMAC signs a device cookie's user, email and nonce. The email is the
// case-folded sign-in key, so a cookie vouches only for the email it was
// issued for, before the store is asked.
func (c *Console) deviceMAC(userID, emailKey, nonce string) []byte {
	m := hmac.New(sha256.New, c.cfg.DeviceKey)
	m.Write([]byte("occsimore device cookie v1\x00" + userID + "\x00" + emailKey + "\x00" + nonce))
	return m.Sum(nil)
}

// setDeviceCookie gives the browser a fresh device cookie for u.
func (c *Console) setDeviceCookie(w http.ResponseWriter, u *occsimore.User) {
	nonce := occsimore.NewSecret(16)
	mac := c.deviceMAC(u.ID, strings.ToLower(u.Email), nonce)
	http.SetCookie(w, &http.Cookie{
		Name:  DeviceCookie,
		Value: "v1." + u.ID + "." + nonce + "." + base64.RawURLEncoding.EncodeToString(mac),
		Path:  "/", MaxAge: int(deviceCookieTTL.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// deviceFor returns the request's device cookie if its signature holds for
// emailKey. Whether it belongs to the user of that email, and whether it is
// locked out, the caller checks.
func (c *Console) deviceFor(r *http.Request, emailKey string) (device, bool) {
	ck, err := r.Cookie(DeviceCookie)
	if err != nil || len(ck.Value) > maxDeviceCookie {
		return device{}, false
	}
	parts := strings.Split(ck.Value, ".")
	if len(parts) != 4 || parts[0] != "v1" || parts[1] == "" || parts[2] == "" {
		return device{}, false
	}
	mac, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil || !hmac.Equal(mac, c.deviceMAC(parts[1], emailKey, parts[2])) {
		return device{}, false
	}
	return device{userID: parts[1], nonce: parts[2]}, true
}
