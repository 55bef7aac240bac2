// Package errorid is the dialect of the unnamed financial API: a JSON
// token endpoint whose every error is {"errorId", "code", "text",
// "parameter_name", "parameter_value"}, with optional working hours.
package errorid
