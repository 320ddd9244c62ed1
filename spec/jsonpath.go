package spec

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
)

// Field paths in messages are written the way a user finds them in
// config.json: object members joined with dots, array elements and map
// entries in brackets (process.args[0], linux.sysctl["net.ipv4.ip_forward"]).

// elem returns the path of element i of the array at field.
func elem(field string, i int) string {
	return field + "[" + strconv.Itoa(i) + "]"
}

// entry returns the path of the entry key of the map at field.
func entry(field, key string) string {
	return field + "[" + strconv.Quote(key) + "]"
}

// member returns the path of the member key of the object at field.
func member(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// isMapField reports whether the config.json member named key holds a map
// with free-form keys, whose entries are written entry-style.
func isMapField(key string) bool {
	switch key {
	case "annotations", "sysctl", "timeOffsets", "netDevices", "rdma", "unified":
		return true
	}
	return false
}

// isIdentifier reports whether key can be written after a dot in a path.
func isIdentifier(key string) bool {
	if key == "" {
		return false
	}
	for i, r := range key {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// jsonFrame is an array or object that locateValue has entered.
type jsonFrame struct {
	path    string // the container's own path
	start   int64  // offset of its opening bracket
	isArray bool   // an array rather than an object
	isMap   bool   // an object with free-form keys (isMapField)
	next    int    // index of the next element, for arrays
	key     string // the member being read, for objects
	wantKey bool   // objects alternate between a key and its value
}

// childPath returns the path of the value that comes next inside f.
func (f *jsonFrame) childPath() string {
	switch {
	case f.isArray:
		return elem(f.path, f.next)
	case f.isMap || !isIdentifier(f.key):
		return entry(f.path, f.key)
	default:
		return member(f.path, f.key)
	}
}

// locateValue walks data and returns the path and start offset of the
// innermost value that contains byte pos. ok is false when data cannot be
// walked as far as pos. It is used only to explain errors, so it favours
// simplicity over speed.
func locateValue(data []byte, pos int64) (path string, start int64, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers out of float64 range must not stop the walk
	var stack []jsonFrame
	for {
		prevEnd := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			break
		}
		tokStart := skipSeparators(data, prevEnd)
		if tokStart > pos {
			break
		}
		var top *jsonFrame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		delim, isDelim := tok.(json.Delim)
		if isDelim && (delim == '}' || delim == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		if top != nil && top.wantKey {
			key, _ := tok.(string)
			top.key, top.wantKey = key, false
			continue
		}
		// tok starts a value.
		valuePath, isMap := "", false
		if top != nil {
			valuePath = top.childPath()
			isMap = !top.isArray && isMapField(top.key)
			if top.isArray {
				top.next++
			} else {
				top.wantKey = true
			}
		}
		if isDelim {
			stack = append(stack, jsonFrame{
				path:    valuePath,
				start:   tokStart,
				isArray: delim == '[',
				isMap:   isMap,
				wantKey: delim == '{',
			})
			continue
		}
		if dec.InputOffset() > pos {
			return valuePath, tokStart, true
		}
	}
	if len(stack) == 0 {
		return "", 0, false
	}
	top := stack[len(stack)-1]
	return top.path, top.start, true
}

// skipSeparators returns the offset of the first byte at or after off that
// is not JSON whitespace or a separator.
func skipSeparators(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\n', '\r', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// jsonTypeName names a Go type by the JSON it accepts.
func jsonTypeName(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		// The width tells the user the range.
		return t.Kind().String()
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array of " + jsonTypeName(t.Elem())
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Pointer:
		return jsonTypeName(t.Elem())
	default:
		return "value"
	}
}
