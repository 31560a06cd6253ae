// Package fieldtest holds tests of record converters (store types, protobuf
// messages, provisioning records, Kubernetes specs) to every field, by
// reflection: a field added to one side and forgotten in a converter fails
// the test instead of being dropped without a word.
//
// A test fills the source with Fill, converts it, requires with RequireSet
// that no field of the target was left zero, and, converting back, requires
// with RequireEqual that nothing was lost. Fields with no counterpart are
// named in Exceptions, with the reason; an exception naming no field fails
// the test, so that the table cannot outlive the fields it excuses.
package fieldtest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Exceptions are the fields a check skips, by path, each with its reason.
// A path is a Go field name, or a protobuf field name for a message, with
// nested fields joined by dots: "ClusterRef.Name", "account.last_modified".
// For the JSON checks it is a JSON field name.
type Exceptions map[string]string

// Fill sets every field of the struct or message that v points to,
// recursively, to a non-zero value distinct from every other field's: a
// converter that swaps two fields is caught as surely as one that drops a
// field. Strings are short, upper-case and printable ("F1", "F2", ...), so
// that they pass the simplest validation (names, groups); slices, lists and
// maps get two elements, pointers a filled value, and a oneof its first
// field.
func Fill(t testing.TB, v any) {
	t.Helper()
	f := &filler{t: t}
	if m, ok := v.(proto.Message); ok {
		f.message(m.ProtoReflect())
		return
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		t.Fatalf("fieldtest.Fill: %T is not a pointer to a struct", v)
	}
	f.value(rv.Elem(), rv.Elem().Type().Name())
}

type filler struct {
	t testing.TB
	n int
}

func (f *filler) next() int { f.n++; return f.n }

var timeType = reflect.TypeFor[time.Time]()

func (f *filler) value(v reflect.Value, path string) {
	if v.Type() == timeType {
		n := f.next()
		v.Set(reflect.ValueOf(time.Unix(1_700_000_000+int64(n), int64(n)).UTC()))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("F%d", f.next()))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.next()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(f.next()))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(f.next()) + 0.5)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.value(v.Elem(), path)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			f.value(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			f.value(k, path+"[key]")
			f.value(e, path+"[value]")
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		for _, sf := range reflect.VisibleFields(v.Type()) {
			if len(sf.Index) > 1 {
				continue // promoted: filled through its embedded struct
			}
			if !sf.IsExported() {
				f.t.Fatalf("fieldtest.Fill: %s.%s is unexported; fill %s by hand", path, sf.Name, v.Type())
			}
			f.value(v.Field(sf.Index[0]), join(path, sf.Name))
		}
	default:
		f.t.Fatalf("fieldtest.Fill: %s: cannot fill a %s", path, v.Type())
	}
}

func (f *filler) message(m protoreflect.Message) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() && o.Fields().Get(0) != fd {
			continue
		}
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			for range 2 {
				if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
					e := l.NewElement()
					f.message(e.Message())
					l.Append(e)
				} else {
					l.Append(f.scalar(fd))
				}
			}
		case fd.IsMap():
			mm := m.Mutable(fd).Map()
			for range 2 {
				k := f.scalar(fd.MapKey()).MapKey()
				if vd := fd.MapValue(); vd.Kind() == protoreflect.MessageKind {
					e := mm.NewValue()
					f.message(e.Message())
					mm.Set(k, e)
				} else {
					mm.Set(k, f.scalar(vd))
				}
			}
		case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
			f.message(m.Mutable(fd).Message())
		default:
			m.Set(fd, f.scalar(fd))
		}
	}
}

func (f *filler) scalar(fd protoreflect.FieldDescriptor) protoreflect.Value {
	n := f.next()
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(fmt.Sprintf("F%d", n))
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes(fmt.Appendf(nil, "F%d", n))
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		if vals.Len() < 2 && fd.HasPresence() {
			return protoreflect.ValueOfEnum(vals.Get(0).Number()) // set, if zero
		}
		if vals.Len() < 2 {
			f.t.Fatalf("fieldtest.Fill: %s: enum %s has no non-zero value", fd.FullName(), fd.Enum().FullName())
		}
		return protoreflect.ValueOfEnum(vals.Get(1 + n%(vals.Len()-1)).Number())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(n))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(n))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(n))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(uint64(n))
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(n) + 0.5)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(float64(n) + 0.5)
	}
	f.t.Fatalf("fieldtest.Fill: %s: cannot fill a %s", fd.FullName(), fd.Kind())
	return protoreflect.Value{}
}

// RequireSet fails the test for every field of v (a struct, a pointer to
// one, or a message) that is zero, naming it, but for the exceptions: a
// field a converter left unset. It descends into nested structs and
// messages; a slice, list or map is set when it has an element, and a oneof
// when one of its fields is.
func RequireSet(t testing.TB, what string, v any, except Exceptions) {
	t.Helper()
	checkExceptions(t, what, v, except)
	for _, p := range unset(v, "") {
		if !skipped(p, except) {
			t.Errorf("%s: %s is not set", what, p)
		}
	}
}

func unset(v any, prefix string) []string {
	if m, ok := v.(proto.Message); ok {
		return unsetMessage(m.ProtoReflect(), prefix)
	}
	return unsetValue(reflect.ValueOf(v), prefix)
}

func unsetValue(v reflect.Value, prefix string) []string {
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || v.Type() == timeType {
		if v.IsZero() || (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.Len() == 0 {
			return []string{prefix}
		}
		return nil
	}
	var out []string
	for _, sf := range reflect.VisibleFields(v.Type()) {
		if len(sf.Index) > 1 || !sf.IsExported() {
			continue
		}
		out = append(out, unsetValue(v.FieldByIndex(sf.Index), join(prefix, sf.Name))...)
	}
	return out
}

func unsetMessage(m protoreflect.Message, prefix string) []string {
	var out []string
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		p := join(prefix, string(fd.Name()))
		if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() {
			if m.WhichOneof(o) == nil && o.Fields().Get(0) == fd {
				out = append(out, join(prefix, string(o.Name())))
			}
			if m.WhichOneof(o) != fd {
				continue
			}
		}
		switch {
		case !m.Has(fd):
			out = append(out, p)
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			out = append(out, unsetMessage(m.Get(fd).Message(), p)...)
		}
	}
	return out
}

// RequireEqual fails the test for every field whose value in got differs
// from its value in want (both of one type: structs, pointers to them, or
// messages), naming it, but for the exceptions: a field a round trip lost.
// Values with an Equal method (time.Time) are compared with it.
func RequireEqual(t testing.TB, what string, want, got any, except Exceptions) {
	t.Helper()
	if reflect.TypeOf(want) != reflect.TypeOf(got) {
		t.Fatalf("%s: comparing a %T with a %T", what, want, got)
	}
	checkExceptions(t, what, want, except)
	var diffs []diff
	if m, ok := want.(proto.Message); ok {
		diffs = diffMessage(m.ProtoReflect(), got.(proto.Message).ProtoReflect(), "")
	} else {
		diffs = diffValue(reflect.ValueOf(want), reflect.ValueOf(got), "")
	}
	for _, d := range diffs {
		if !skipped(d.path, except) {
			t.Errorf("%s: %s is %v, want %v", what, d.path, d.got, d.want)
		}
	}
}

type diff struct {
	path      string
	want, got any
}

func diffValue(want, got reflect.Value, prefix string) []diff {
	for want.Kind() == reflect.Pointer && got.Kind() == reflect.Pointer && !want.IsNil() && !got.IsNil() {
		want, got = want.Elem(), got.Elem()
	}
	if want.Kind() == reflect.Struct && want.Type() != timeType {
		var out []diff
		for _, sf := range reflect.VisibleFields(want.Type()) {
			if len(sf.Index) > 1 || !sf.IsExported() {
				continue
			}
			out = append(out, diffValue(want.FieldByIndex(sf.Index), got.FieldByIndex(sf.Index), join(prefix, sf.Name))...)
		}
		return out
	}
	if eq := want.MethodByName("Equal"); eq.IsValid() && eq.Type().NumIn() == 1 && eq.Type().In(0) == got.Type() && eq.Type().NumOut() == 1 && eq.Type().Out(0).Kind() == reflect.Bool {
		if eq.Call([]reflect.Value{got})[0].Bool() {
			return nil
		}
	} else if reflect.DeepEqual(want.Interface(), got.Interface()) {
		return nil
	}
	return []diff{{prefix, show(want), show(got)}}
}

func show(v reflect.Value) any {
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		return fmt.Sprintf("&%v", v.Elem().Interface())
	}
	return fmt.Sprintf("%#v", v.Interface())
}

func diffMessage(want, got protoreflect.Message, prefix string) []diff {
	var out []diff
	fields := want.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		p := join(prefix, string(fd.Name()))
		if fd.Message() != nil && !fd.IsList() && !fd.IsMap() && want.Has(fd) && got.Has(fd) {
			out = append(out, diffMessage(want.Get(fd).Message(), got.Get(fd).Message(), p)...)
			continue
		}
		// Each side reduced to this one field, so that proto.Equal
		// compares the field alone.
		w, g := want.Type().New(), got.Type().New()
		if want.Has(fd) {
			w.Set(fd, want.Get(fd))
		}
		if got.Has(fd) {
			g.Set(fd, got.Get(fd))
		}
		if !proto.Equal(w.Interface(), g.Interface()) {
			out = append(out, diff{p, fieldString(want, fd), fieldString(got, fd)})
		}
	}
	return out
}

func fieldString(m protoreflect.Message, fd protoreflect.FieldDescriptor) string {
	if !m.Has(fd) {
		return "unset"
	}
	v := m.Get(fd)
	if fd.IsList() {
		var elems []string
		for i := range v.List().Len() {
			elems = append(elems, fmt.Sprint(v.List().Get(i).Interface()))
		}
		return "[" + strings.Join(elems, " ") + "]"
	}
	return fmt.Sprint(v.Interface())
}

// RequireSameJSON compares two records whose fields share JSON names (a
// provisioning record and the store's, a Kubernetes spec and the file's):
// it fails the test for every JSON field of dst whose value differs from
// src's field of that name, or that src lacks, and for every JSON field of
// src that dst lacks, naming it, but for the exceptions, which may name a
// field of either side. Values are compared as JSON, so that an int32 and a
// uint32 of the same value are equal, as are a []string and a slice of a
// string type.
func RequireSameJSON(t testing.TB, what string, src, dst any, except Exceptions) {
	t.Helper()
	srcNames, dstNames := JSONNames(t, src), JSONNames(t, dst)
	for name := range except {
		if !slices.Contains(srcNames, name) && !slices.Contains(dstNames, name) {
			t.Errorf("%s: exception %q names no JSON field of %T or %T", what, name, src, dst)
		}
	}
	sv, dv := JSONFields(t, src), JSONFields(t, dst)
	for _, name := range dstNames {
		if _, ok := except[name]; ok {
			continue
		}
		switch {
		case !slices.Contains(srcNames, name):
			t.Errorf("%s: %T has %s, %T has no field of that name", what, dst, name, src)
		case !reflect.DeepEqual(sv[name], dv[name]):
			t.Errorf("%s: %s is %s, want %s", what, name, jsonString(dv[name]), jsonString(sv[name]))
		}
	}
	for _, name := range srcNames {
		if _, ok := except[name]; !ok && !slices.Contains(dstNames, name) {
			t.Errorf("%s: %T has %s, %T has no field of that name", what, src, name, dst)
		}
	}
}

// JSONNames returns the JSON names of the fields of the struct v is or
// points to, as encoding/json names them.
func JSONNames(t testing.TB, v any) []string {
	t.Helper()
	rt := reflect.TypeOf(v)
	for rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	if rt.Kind() != reflect.Struct {
		t.Fatalf("fieldtest: %T is not a struct", v)
	}
	var names []string
	for _, sf := range reflect.VisibleFields(rt) {
		if !sf.IsExported() || sf.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = sf.Name
		}
		names = append(names, name)
	}
	return names
}

// JSONFields returns v as encoding/json writes it, decoded into a map: a
// field omitted when empty is absent.
func JSONFields(t testing.TB, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("fieldtest: %T: %v", v, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("fieldtest: %T: %v", v, err)
	}
	return m
}

func jsonString(v any) string {
	if v == nil {
		return "absent"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// checkExceptions fails the test for every exception that names no field of
// v, or gives no reason.
func checkExceptions(t testing.TB, what string, v any, except Exceptions) {
	t.Helper()
	known := map[string]bool{}
	for _, p := range fieldPaths(v, "") {
		known[p] = true
	}
	for p, reason := range except {
		if !known[p] {
			t.Errorf("%s: exception %q names no field of %T", what, p, v)
		}
		if strings.TrimSpace(reason) == "" {
			t.Errorf("%s: exception %q gives no reason", what, p)
		}
	}
}

// fieldPaths lists the path of every field of v, nested ones included.
func fieldPaths(v any, prefix string) []string {
	if m, ok := v.(proto.Message); ok {
		return messagePaths(m.ProtoReflect().Descriptor(), prefix, 0)
	}
	return typePaths(reflect.TypeOf(v), prefix, 0)
}

// depth bounds the walk of recursive types.
const depth = 8

func typePaths(rt reflect.Type, prefix string, d int) []string {
	for rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	if rt.Kind() != reflect.Struct || rt == timeType || d > depth {
		return nil
	}
	var out []string
	for _, sf := range reflect.VisibleFields(rt) {
		if len(sf.Index) > 1 || !sf.IsExported() {
			continue
		}
		p := join(prefix, sf.Name)
		out = append(out, p)
		out = append(out, typePaths(sf.Type, p, d+1)...)
	}
	return out
}

func messagePaths(md protoreflect.MessageDescriptor, prefix string, d int) []string {
	if d > depth {
		return nil
	}
	var out []string
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		p := join(prefix, string(fd.Name()))
		out = append(out, p)
		if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() && o.Fields().Get(0) == fd {
			out = append(out, join(prefix, string(o.Name())))
		}
		if fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
			out = append(out, messagePaths(fd.Message(), p, d+1)...)
		}
	}
	return out
}

// skipped says whether p is an exception or lies under one.
func skipped(p string, except Exceptions) bool {
	for e := range except {
		if p == e || strings.HasPrefix(p, e+".") {
			return true
		}
	}
	return false
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
