//go:build !linux

package proxy

import "net"

// Without epoll, every fast path connection runs on a goroutine.

func (s *Server) adopt(*clientConn) bool { return false }

func wakeLoop() {}

func borrowIdle(*Forwarder) *backendConn { return nil }

func giveIdle(*Forwarder, net.Conn) bool { return false }
