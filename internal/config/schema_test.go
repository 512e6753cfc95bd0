package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestConvert(t *testing.T) {
	var (
		tString = reflect.TypeFor[string]()
		tBool   = reflect.TypeFor[bool]()
		tInt    = reflect.TypeFor[int]()
		tUint   = reflect.TypeFor[uint64]()
		tFloat  = reflect.TypeFor[float64]()
		tIntPtr = reflect.TypeFor[*int]()
	)
	tests := []struct {
		name     string
		in       any
		typ      reflect.Type
		want     any
		wantSkip bool
		wantErr  string
	}{
		{name: "int", in: 7, typ: tInt, want: 7},
		{name: "int from string", in: " 7000 ", typ: tInt, want: 7000},
		{name: "int from integral float", in: 3.0, typ: tInt, want: 3},
		{name: "int from fraction", in: 3.5, typ: tInt, wantErr: "want an integer, got 3.5"},
		{name: "int from word", in: "abc", typ: tInt, wantErr: `want an integer, got "abc"`},
		{name: "int from bool", in: true, typ: tInt, wantErr: "want an integer"},
		{name: "int from list", in: []any{1}, typ: tInt, wantErr: "got a list"},
		{name: "int null keeps earlier value", in: nil, typ: tInt, wantSkip: true},
		{name: "negative int", in: "-2", typ: tInt, want: -2},
		{name: "uint", in: "42", typ: tUint, want: uint64(42)},
		{name: "uint from int", in: 42, typ: tUint, want: uint64(42)},
		{name: "uint negative", in: -1, typ: tUint, wantErr: "non-negative"},
		{name: "float from string", in: "0.25", typ: tFloat, want: 0.25},
		{name: "float from int", in: 1, typ: tFloat, want: 1.0},
		{name: "bool", in: false, typ: tBool, want: false},
		{name: "bool from TRUE", in: "TRUE", typ: tBool, want: true},
		{name: "bool from 0", in: "0", typ: tBool, want: false},
		{name: "bool from word", in: "maybe", typ: tBool, wantErr: "want true or false"},
		{name: "string", in: "x", typ: tString, want: "x"},
		{name: "string from int", in: 12345, typ: tString, want: "12345"},
		{name: "string null is empty", in: nil, typ: tString, want: ""},
		{name: "string from mapping", in: map[string]any{"a": 1}, typ: tString, wantErr: "got a mapping"},
		{name: "pointer", in: "5", typ: tIntPtr, want: 5},
		{name: "pointer null", in: nil, typ: tIntPtr, want: nil},
		{name: "pointer null string", in: "NULL", typ: tIntPtr, want: nil},
		{name: "pointer bad", in: "x", typ: tIntPtr, wantErr: "want an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, skip, err := convert(tt.in, tt.typ)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("convert error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("convert: %v", err)
			}
			if skip != tt.wantSkip {
				t.Fatalf("skip = %v, want %v", skip, tt.wantSkip)
			}
			if !tt.wantSkip && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("convert = %#v, want %#v", got, tt.want)
			}
		})
	}
}
