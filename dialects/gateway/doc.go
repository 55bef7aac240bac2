// Package gateway assembles the echo server from the config, the engine and
// the enabled dialects: it mounts each dialect under its prefix (or on its own
// listener), refuses unknown dialects and route collisions, and wraps every
// request in the shared middleware (recovery, body limit, access log). Every
// error, including the framework's own 404/405/413, is rendered by the
// dialect owning the path, so no echo default body ever leaks.
package gateway
