package lazyjson

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"sync"
	"time"
)

// errFallback means: leave this document to encoding/json.
var errFallback = errors.New("lazyjson: left to encoding/json")

// maxDepth bounds nesting (encoding/json fails at 10000).
const maxDepth = 1000

// Unmarshal decodes data into v like json.Unmarshal(data, v). v must be a
// non-nil pointer; when it does not point to a zero value (which
// encoding/json would merge into), encoding/json decodes it.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || !rv.Elem().IsZero() {
		return json.Unmarshal(data, v)
	}
	d := decoder{data: data}
	err := d.value(rv.Elem(), 0)
	if err == nil {
		d.skipSpace()
		if d.pos == len(d.data) {
			return nil
		}
	}
	// Start again from zero: the attempt may have filled in part of v.
	rv.Elem().SetZero()
	return json.Unmarshal(data, v)
}

type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// next returns the next non-space byte without consuming it (0 at the end).
func (d *decoder) next() byte {
	d.skipSpace()
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// literal consumes word ("true", "false", "null").
func (d *decoder) literal(word string) error {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return errFallback
	}
	d.pos += len(word)
	return nil
}

// decodes tells, per type, whether values of it are decoded here.
var decodes sync.Map // reflect.Type -> bool

func decodable(t reflect.Type) bool {
	if ok, found := decodes.Load(t); found {
		return ok.(bool)
	}
	// A pointer's own methods are its element's; that is checked when
	// the decoding gets there.
	ok := t == timeType || t.Kind() == reflect.Pointer || !customCodec(t)
	if ok {
		switch t.Kind() {
		case reflect.Interface, reflect.Array, reflect.Chan, reflect.Func,
			reflect.Complex64, reflect.Complex128, reflect.UnsafePointer, reflect.Uintptr:
			ok = false
		case reflect.Map:
			ok = t.Key().Kind() == reflect.String && !customCodec(t.Key())
		}
	}
	decodes.Store(t, ok)
	return ok
}

// value decodes the next JSON value into v.
func (d *decoder) value(v reflect.Value, depth int) error {
	if depth > maxDepth || !decodable(v.Type()) {
		return errFallback
	}
	c := d.next()
	if c == 'n' {
		if err := d.literal("null"); err != nil {
			return err
		}
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice:
			v.SetZero()
		}
		return nil
	}
	if v.Type() == timeType {
		return d.time(v)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.value(v.Elem(), depth+1)
	case reflect.Struct:
		if c != '{' {
			return errFallback
		}
		return d.object(v, depth)
	case reflect.Map:
		if c != '{' {
			return errFallback
		}
		return d.mapValue(v, depth)
	case reflect.Slice:
		if c == '"' && v.Type().Elem().Kind() == reflect.Uint8 {
			return d.bytes(v)
		}
		if c != '[' {
			return errFallback
		}
		return d.array(v, depth)
	case reflect.String:
		if c != '"' {
			return errFallback
		}
		s, err := d.str()
		if err != nil {
			return err
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		switch c {
		case 't':
			v.SetBool(true)
			return d.literal("true")
		case 'f':
			v.SetBool(false)
			return d.literal("false")
		}
		return errFallback
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		num, err := d.number()
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return errFallback
		}
		v.SetInt(n)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		num, err := d.number()
		if err != nil {
			return err
		}
		n, err := strconv.ParseUint(num, 10, 64)
		if err != nil || v.OverflowUint(n) {
			return errFallback
		}
		v.SetUint(n)
		return nil
	case reflect.Float32, reflect.Float64:
		num, err := d.number()
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(num, v.Type().Bits())
		if err != nil || v.OverflowFloat(f) {
			return errFallback
		}
		v.SetFloat(f)
		return nil
	}
	return errFallback
}

// object decodes a JSON object into struct v.
func (d *decoder) object(v reflect.Value, depth int) error {
	si := structOf(v.Type())
	if si.unsupported || len(si.fields) > 64 {
		return errFallback
	}
	d.pos++ // '{'
	if d.next() == '}' {
		d.pos++
		return nil
	}
	var seen uint64
	for {
		if d.next() != '"' {
			return errFallback
		}
		key, err := d.key()
		if err != nil {
			return err
		}
		if d.next() != ':' {
			return errFallback
		}
		d.pos++
		i := si.lookup(key)
		switch {
		case i >= 0:
			if seen&(1<<i) != 0 {
				return errFallback // a duplicate: encoding/json merges
			}
			seen |= 1 << i
			if err := d.value(fieldByIndex(v, si.fields[i].index), depth+1); err != nil {
				return err
			}
		case si.foldMatch(key):
			return errFallback // encoding/json matches it case-insensitively
		default:
			if err := d.skip(depth + 1); err != nil {
				return err
			}
		}
		switch d.next() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return errFallback
		}
	}
}

// fieldByIndex is v.FieldByIndex for paths through embedded structs (not
// pointers, see collectFields).
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for _, i := range index {
		v = v.Field(i)
	}
	return v
}

func (si *structInfo) lookup(key string) int {
	for i := range si.fields {
		if si.fields[i].name == key {
			return i
		}
	}
	return -1
}

// foldMatch reports whether key equals a member name ignoring case, as
// encoding/json compares (with Unicode folding; keys here are ASCII).
func (si *structInfo) foldMatch(key string) bool {
	for i := range si.fields {
		if asciiEqualFold(si.fields[i].name, key) {
			return true
		}
	}
	for i := 0; i < len(key); i++ {
		if key[i] >= 0x80 {
			return true // non-ASCII: let encoding/json's folding decide
		}
	}
	return false
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// mapValue decodes a JSON object into map v (string keys).
func (d *decoder) mapValue(v reflect.Value, depth int) error {
	t := v.Type()
	if v.IsNil() {
		v.Set(reflect.MakeMap(t))
	}
	d.pos++ // '{'
	if d.next() == '}' {
		d.pos++
		return nil
	}
	for {
		if d.next() != '"' {
			return errFallback
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if d.next() != ':' {
			return errFallback
		}
		d.pos++
		elem := reflect.New(t.Elem()).Elem()
		if err := d.value(elem, depth+1); err != nil {
			return err
		}
		k := reflect.New(t.Key()).Elem()
		k.SetString(key)
		v.SetMapIndex(k, elem)
		switch d.next() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return errFallback
		}
	}
}

// array decodes a JSON array into slice v; [] gives an empty, non-nil
// slice, as with encoding/json.
func (d *decoder) array(v reflect.Value, depth int) error {
	d.pos++ // '['
	v.Set(reflect.MakeSlice(v.Type(), 0, 0))
	if d.next() == ']' {
		d.pos++
		return nil
	}
	for n := 0; ; n++ {
		if n == v.Cap() {
			v.Grow(max(4, n))
		}
		v.SetLen(n + 1)
		if err := d.value(v.Index(n), depth+1); err != nil {
			return err
		}
		switch d.next() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return nil
		default:
			return errFallback
		}
	}
}

// bytes decodes a base64 string into a []byte, as encoding/json does.
func (d *decoder) bytes(v reflect.Value) error {
	s, err := d.str()
	if err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return errFallback
	}
	v.SetBytes(b)
	return nil
}

// time decodes a time.Time with its own UnmarshalJSON, as encoding/json
// does, given the raw value.
func (d *decoder) time(v reflect.Value) error {
	start := d.pos
	if d.next() != '"' {
		return errFallback
	}
	if _, err := d.str(); err != nil {
		return err
	}
	t := v.Addr().Interface().(*time.Time)
	if err := t.UnmarshalJSON(d.data[start:d.pos]); err != nil {
		return errFallback
	}
	return nil
}

// key reads an object key; one with escapes is left to encoding/json.
func (d *decoder) key() (string, error) {
	end, plain := d.scanString()
	if end < 0 || !plain {
		return "", errFallback
	}
	s := string(d.data[d.pos+1 : end-1])
	d.pos = end
	return s, nil
}

// str reads a string value. Plain ASCII without escapes is taken as it
// is; anything else is unquoted by encoding/json (escapes, UTF-8
// replacement), which for a lone string builds no type tables.
func (d *decoder) str() (string, error) {
	end, plain := d.scanString()
	if end < 0 {
		return "", errFallback
	}
	raw := d.data[d.pos:end]
	d.pos = end
	if plain {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errFallback
	}
	return s, nil
}

// scanString finds the end (just past the closing quote) of the string
// starting at d.pos, checking escapes as JSON defines them; plain says it
// is printable ASCII without escapes. end is -1 for a malformed string.
func (d *decoder) scanString() (end int, plain bool) {
	plain = true
	for i := d.pos + 1; i < len(d.data); i++ {
		c := d.data[i]
		switch {
		case c == '"':
			return i + 1, plain
		case c < 0x20:
			return -1, false
		case c >= 0x80:
			plain = false
		case c == '\\':
			plain = false
			i++
			if i >= len(d.data) {
				return -1, false
			}
			switch d.data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(d.data) {
					return -1, false
				}
				for _, h := range d.data[i+1 : i+5] {
					if !isHex(h) {
						return -1, false
					}
				}
				i += 4
			default:
				return -1, false
			}
		}
	}
	return -1, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number reads a number, checked against JSON's grammar.
func (d *decoder) number() (string, error) {
	start, i := d.pos, d.pos
	data := d.data
	digits := func() bool {
		j := i
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case !digits():
		return "", errFallback
	}
	if i < len(data) && data[i] == '.' {
		i++
		if !digits() {
			return "", errFallback
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if !digits() {
			return "", errFallback
		}
	}
	d.pos = i
	return string(data[start:i]), nil
}

// skip consumes one value of any kind, checking its syntax (a member this
// package's types do not have, which encoding/json also skips).
func (d *decoder) skip(depth int) error {
	if depth > maxDepth {
		return errFallback
	}
	switch d.next() {
	case '{':
		d.pos++
		if d.next() == '}' {
			d.pos++
			return nil
		}
		for {
			if d.next() != '"' {
				return errFallback
			}
			if end, _ := d.scanString(); end < 0 {
				return errFallback
			} else {
				d.pos = end
			}
			if d.next() != ':' {
				return errFallback
			}
			d.pos++
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			switch d.next() {
			case ',':
				d.pos++
			case '}':
				d.pos++
				return nil
			default:
				return errFallback
			}
		}
	case '[':
		d.pos++
		if d.next() == ']' {
			d.pos++
			return nil
		}
		for {
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			switch d.next() {
			case ',':
				d.pos++
			case ']':
				d.pos++
				return nil
			default:
				return errFallback
			}
		}
	case '"':
		end, _ := d.scanString()
		if end < 0 {
			return errFallback
		}
		d.pos = end
		return nil
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	}
	_, err := d.number()
	return err
}
