package behavior
import ("bytes";"testing";"time";"math/rand/v2")
func TestZZSnapMut(t *testing.T) {
	src := newTestEngine(t)
	for i, ev := range cardTemplates(20, 200) { ev.Time = simStart.Add(time.Duration(i) * time.Minute); mustProcess(t, src, ev) }
	var buf bytes.Buffer
	_ = src.WriteSnapshot(&buf)
	r := rand.New(rand.NewPCG(1,2))
	for it := range 300 {
		d := bytes.Clone(buf.Bytes())
		for range 1+r.IntN(4) { d[r.IntN(len(d))] = byte(r.IntN(256)) }
		if r.IntN(3)==0 { d = d[:r.IntN(len(d))] }
		start := time.Now()
		e := newTestEngine(t)
		err := e.ReadSnapshot(bytes.NewReader(d))
		if el := time.Since(start); el > 100*time.Millisecond { t.Logf("iter %d took %v err %v", it, el, err) }
	}
}
