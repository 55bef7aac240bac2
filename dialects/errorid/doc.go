// Package errorid is the dialect of the financial API of seed 002: a JSON
// token endpoint whose every error is {"errorId", "code", "text",
// "parameter_name", "parameter_value"}, with optional working hours.
package errorid
