package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// tlsConfig builds the server TLS config from a certificate pair, or from a
// freshly generated self-signed one for localhost. TLS 1.2 is the minimum.
func tlsConfig(certFile, keyFile string, selfSigned bool, dir string) (*tls.Config, string, error) {
	if selfSigned {
		if certFile != "" || keyFile != "" {
			return nil, "", fmt.Errorf("--tls-self-signed cannot be combined with --tls-cert/--tls-key")
		}
		var err error
		certFile, keyFile, err = writeSelfSigned(dir)
		if err != nil {
			return nil, "", err
		}
	}
	if certFile == "" && keyFile == "" {
		return nil, "", nil
	}
	if certFile == "" || keyFile == "" {
		return nil, "", fmt.Errorf("--tls-cert and --tls-key go together")
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, "", fmt.Errorf("loading the TLS certificate: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}, certFile, nil
}

// writeSelfSigned writes a one-year ECDSA certificate for localhost,
// 127.0.0.1 and ::1 into dir and returns the file paths.
func writeSelfSigned(dir string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return "", "", err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "tokengate localhost", Organization: []string{"tokengate (self-signed)"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "tokengate-tls-"); err != nil {
			return "", "", err
		}
	}
	certFile, keyFile = filepath.Join(dir, "tokengate-cert.pem"), filepath.Join(dir, "tokengate-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}
