package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// rs256SigningInput is a JWT-sized signing input: base64url header "." base64url
// claims, shaped and sized like the acceleration dialect's access tokens.
func rs256SigningInput() []byte {
	enc := base64.RawURLEncoding
	header := `{"kid":"MGf1fWEHCpjP2g-kRK7pyaEoiBvWgOWFDDrA5UAkW6g","alg":"RS256"}`
	claims := `{"ver":1,"jti":"AT.7Nal1jtyfhC6Xjjhb81rHiYMfo5MSdo9qLkX3FfaAmM","iss":"https://tokengate.local/oauth2/default",` +
		`"aud":"api://tenant","iat":1795836315,"exp":1795843515,"cid":"demo-client","uid":"demo-user","scp":["openid"],` +
		`"auth_time":1795836315,"sub":"john.doe@example.com","clientId":"demo-client"}`
	return []byte(enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims)))
}

// rs256Floor measures RS256 signatures per second on all cores: GOMAXPROCS
// goroutines, each hashing the signing input with SHA-256 and signing it with
// rsa.SignPKCS1v15 under one 2048-bit key, for d. It is the same call the
// acceleration dialect's signer makes, so it bounds acceleration_jwt from
// above (that dialect exports no signer usable from outside its package).
// It also returns how many cores the measurement actually got (tgbench's CPU
// time over the wall time), which is below GOMAXPROCS on a busy machine.
func rs256Floor(d time.Duration) (perSecond, cores float64, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return 0, 0, err
	}
	key.Precompute()
	input := rs256SigningInput()
	var n atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, runtime.GOMAXPROCS(0))
	cpu0, start := selfCPU(), time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for !stop.Load() {
				digest := sha256.Sum256(input)
				if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
					errs <- err
					return
				}
				n.Add(1)
			}
		})
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	elapsed, cpu := time.Since(start), selfCPU()-cpu0
	select {
	case err := <-errs:
		return 0, 0, err
	default:
	}
	return float64(n.Load()) / elapsed.Seconds(), cpu.Seconds() / elapsed.Seconds(), nil
}
