//go:build !linux

package proxy

// Without epoll, every fast path connection runs on a goroutine.

func (s *Server) adopt(*clientConn) bool { return false }

func wakeLoop() {}

func borrowIdle(*Forwarder) *backendConn { return nil }
