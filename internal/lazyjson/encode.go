package lazyjson

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Marshal encodes v like json.Marshal(v), byte for byte.
func Marshal(v any) ([]byte, error) {
	e := encoder{buf: make([]byte, 0, 2048)}
	if err := e.value(reflect.ValueOf(v), 0); err != nil {
		return json.Marshal(v)
	}
	return e.buf, nil
}

type encoder struct {
	buf []byte
}

// encodes tells, per type, whether values of it are encoded here.
var encodes sync.Map // reflect.Type -> bool

func encodable(t reflect.Type) bool {
	if ok, found := encodes.Load(t); found {
		return ok.(bool)
	}
	ok := t == timeType || !customCodec(t)
	if ok {
		switch t.Kind() {
		case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
			ok = false
		case reflect.Map:
			ok = t.Key().Kind() == reflect.String && !customCodec(t.Key())
		case reflect.Pointer:
			// A nil pointer to a type with value-receiver MarshalJSON
			// is encoded by calling it: leave those to encoding/json.
			ok = t.Elem() == timeType || !customCodec(t.Elem())
		}
	}
	encodes.Store(t, ok)
	return ok
}

func (e *encoder) value(v reflect.Value, depth int) error {
	if !v.IsValid() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	if depth > maxDepth || !encodable(v.Type()) {
		return errFallback
	}
	if v.Type() == timeType {
		b, err := v.Interface().(time.Time).MarshalJSON()
		if err != nil {
			return errFallback
		}
		e.buf = append(e.buf, b...)
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.value(v.Elem(), depth+1)
	case reflect.Struct:
		return e.object(v, depth)
	case reflect.Map:
		return e.mapValue(v, depth)
	case reflect.Slice:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 && !customCodec(v.Type().Elem()) {
			e.buf = append(e.buf, '"')
			e.buf = base64.StdEncoding.AppendEncode(e.buf, v.Bytes())
			e.buf = append(e.buf, '"')
			return nil
		}
		return e.array(v, depth)
	case reflect.Array:
		return e.array(v, depth)
	case reflect.String:
		e.buf = appendQuoted(e.buf, v.String())
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return e.float(v.Float(), v.Type().Bits())
	default:
		return errFallback
	}
	return nil
}

func (e *encoder) object(v reflect.Value, depth int) error {
	si := structOf(v.Type())
	if si.unsupported {
		return errFallback
	}
	e.buf = append(e.buf, '{')
	first := true
	for i := range si.fields {
		f := &si.fields[i]
		fv := fieldByIndex(v, f.index)
		if f.omitEmpty && isEmpty(fv) {
			continue
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		e.buf = appendQuoted(e.buf, f.name)
		e.buf = append(e.buf, ':')
		if err := e.value(fv, depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// isEmpty is the omitempty test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// mapValue writes a map with its keys sorted.
func (e *encoder) mapValue(v reflect.Value, depth int) error {
	if v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	keys := make([]string, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		keys = append(keys, it.Key().String())
	}
	slices.Sort(keys)
	e.buf = append(e.buf, '{')
	for i, k := range keys {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendQuoted(e.buf, k)
		e.buf = append(e.buf, ':')
		kv := reflect.New(v.Type().Key()).Elem()
		kv.SetString(k)
		if err := e.value(v.MapIndex(kv), depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

func (e *encoder) array(v reflect.Value, depth int) error {
	e.buf = append(e.buf, '[')
	for i := 0; i < v.Len(); i++ {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(v.Index(i), depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

// float writes f as encoding/json does: like JavaScript, plain decimal
// for magnitudes in [1e-6, 1e21), exponent form (without a leading zero
// in the exponent) outside.
func (e *encoder) float(f float64, bits int) error {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return errFallback
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 {
		if bits == 64 && (a < 1e-6 || a >= 1e21) || bits == 32 && (float32(a) < 1e-6 || float32(a) >= 1e21) {
			format = 'e'
		}
	}
	start := len(e.buf)
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, bits)
	if format == 'e' {
		// e-07 -> e-7
		n := len(e.buf) - start
		if b := e.buf[start:]; n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			e.buf = e.buf[:len(e.buf)-1]
		}
	}
	return nil
}

const hexDigits = "0123456789abcdef"

// appendQuoted writes s as a JSON string the way encoding/json does: the
// two-character escapes for quote, backslash, \b, \f, \n, \r and \t;
// \u00XX for the other control characters and for <, > and & (safe to
// embed in HTML); U+FFFD for each byte that is not valid UTF-8; and
// \u2028 and \u2029, which JavaScript does not allow in strings.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	from := 0 // s[from:i] is copied as it is
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[from:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, `\b`...)
			case '\f':
				dst = append(dst, `\f`...)
			case '\n':
				dst = append(dst, `\n`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\t':
				dst = append(dst, `\t`...)
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			from = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[from:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[from:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		from = i
	}
	dst = append(dst, s[from:]...)
	return append(dst, '"')
}
