package planner

import (
	"encoding/json"
	"fmt"
)

// Encode serialises a plan for the store. Decode(Encode(p)) is a plan that
// renders, explains and applies exactly like p.
func Encode(p *Plan) ([]byte, error) { return json.Marshal(p) }

// Decode restores a plan saved with Encode, rebuilding its indexes.
func Decode(data []byte) (*Plan, error) {
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decode plan: %w", err)
	}
	p.index()
	return &p, nil
}
