"""Testbench wrapper for whole networks under Verilator: the per-beat work stays in the RTL.

Streaming thousands of images through a Python driver that wakes every clock cycle would spend
the time in Python, not in Verilator. The harness takes one whole image per handshake (all beats
concatenated, as :meth:`hw.plan.layout.InputLayout.images` packs them), feeds its beats to the design
under test, and publishes each result with a counter that cocotb waits on. Python wakes a few
times per image; the random valid gaps and ready back-pressure come from LFSRs in the harness,
switched on by the ``stress`` input.

Ports of module ``bitfold_harness``
-----------------------------------
img__payload, img__valid, img__ready
    One image per beat; a two-image staging queue and a shift register keep the design fed.
res_data
    The latest result beat; ``res_cycle`` is the cycle it left the design, ``res_count`` counts
    results (it changes exactly once per result).
start_cycle
    Cycle at which the design accepted the first beat of the latest image.
cycle
    Free-running cycle counter.
clk
    The clock (there is no reset input).
stress
    Enable random input gaps and output back-pressure (each with probability 1/4 per cycle).

For simulation speed no logic of the design depends on a top-level input combinationally:
Verilator re-evaluates input-dependent logic on every clock toggle. So reset comes from a
power-on counter inside the harness (16 cycles), ``stress`` is registered, and the image queue's
``ready`` is a register.

The harness is written as Verilog text (simulation-only scaffolding): built with Amaranth, its
image-wide registers (24,576 bits for a 3 x 32 x 32 8-bit image) took Amaranth's netlist checks
minutes to elaborate.
"""

__all__ = ["NetworkHarness", "LFSR_TAPS"]

LFSR_TAPS = 0x80200003  # 32-bit Galois LFSR (taps 32, 22, 2, 1), advanced every cycle
SEED_IN, SEED_OUT = 0x1D872B41, 0x5EED1234


class NetworkHarness:
    """Parameters: ``top`` (name of the emitted Verilog module under test), the input layout's
    ``image_beats`` and ``beat_bits``, the top's output port width ``out_bits``, and its
    ``interface`` (``stream``, or ``axis``: then ``in_bits`` is the width of ``s_axis_tdata``, and
    each image's last beat carries ``tlast``; ``res_data`` holds all of ``m_axis_tdata``)."""

    def __init__(self, top: str, image_beats: int, beat_bits: int, out_bits: int, interface: str = "stream",
                 in_bits: int | None = None):
        self.top, self.interface = top, interface
        self.image_beats, self.beat_bits, self.out_bits = int(image_beats), int(beat_bits), int(out_bits)
        self.in_bits = int(in_bits or beat_bits)  # the top's input port (TDATA is padded to whole bytes)
        if interface not in ("stream", "axis"):
            raise ValueError(f"interface must be 'stream' or 'axis', not {interface!r}")

    def _instance(self) -> str:
        """The design under test, its ports wired to the harness's streams."""
        if self.interface == "stream":
            return f"""  {self.top} dut (
    .clk(clk), .rst(rst),
    .i__payload(i_payload), .i__valid(i_valid), .i__ready(i_ready),
    .o__payload(o_payload), .o__valid(o_valid), .o__ready(o_ready)
  );"""
        pad = self.in_bits - self.beat_bits
        tdata = f"{{{pad}'d0, i_payload}}" if pad else "i_payload"
        return f"""  wire o_last;
  {self.top} dut (
    .ap_clk(clk), .ap_rst_n(~rst),
    .s_axis_tdata({tdata}), .s_axis_tvalid(i_valid), .s_axis_tready(i_ready), .s_axis_tlast(i_last),
    .m_axis_tdata(o_payload), .m_axis_tvalid(o_valid), .m_axis_tready(o_ready), .m_axis_tlast(o_last)
  );"""

    @property
    def image_bits(self) -> int:
        return self.image_beats * self.beat_bits

    def verilog(self, name: str = "bitfold_harness") -> str:
        n, bb, ob, img = self.image_beats, self.beat_bits, self.out_bits, self.image_bits
        lb = max(1, n.bit_length())
        return f"""// bitfold network harness (simulation only): {n} beats of {bb} bits per image, {ob}-bit results
module {name} (
  input clk,
  input [{img - 1}:0] img__payload,
  input img__valid,
  output img__ready,
  output reg [{ob - 1}:0] res_data,
  output reg [31:0] res_cycle,
  output reg [31:0] res_count,
  output reg [31:0] start_cycle,
  output reg [31:0] cycle,
  input stress
);
  reg [4:0] por = 5'd0;
  wire rst = ~por[4];
  always @(posedge clk) if (~por[4]) por <= por + 5'd1;

  reg stress_r;
  reg [31:0] lfsr_in, lfsr_out;
  wire idle_in = stress_r & (lfsr_in[1:0] == 2'd0);
  wire stall_out = stress_r & (lfsr_out[1:0] == 2'd0);

  wire [{bb - 1}:0] i_payload;
  wire i_valid, i_ready, i_last;
  wire [{ob - 1}:0] o_payload;
  wire o_valid, o_ready;
{self._instance()}

  reg [{img - 1}:0] stage0, stage1, shreg;
  reg [1:0] count;
  reg ready;
  reg [{lb - 1}:0] left;
  assign img__ready = ready;
  assign i_payload = shreg[{bb - 1}:0];
  assign i_valid = (left != {lb}'d0) & ~idle_in;
  assign i_last = left == {lb}'d1;
  assign o_ready = ~stall_out;
  wire beat_taken = i_valid & i_ready;
  wire refill = (left == {lb}'d0) | ((left == {lb}'d1) & beat_taken);
  wire push = img__valid & ready;
  wire pop = refill & (count != 2'd0);
  wire [1:0] count_next = count + {{1'b0, push}} - {{1'b0, pop}};

  always @(posedge clk) begin
    if (rst) begin
      stress_r <= 1'b0;
      lfsr_in <= 32'h{SEED_IN:08x};
      lfsr_out <= 32'h{SEED_OUT:08x};
      count <= 2'd0;
      ready <= 1'b1;
      left <= {lb}'d0;
      cycle <= 32'd0;
      res_count <= 32'd0;
      res_cycle <= 32'd0;
      start_cycle <= 32'd0;
      res_data <= {ob}'d0;
    end else begin
      stress_r <= stress;
      lfsr_in <= (lfsr_in >> 1) ^ ({{32{{lfsr_in[0]}}}} & 32'h{LFSR_TAPS:08x});
      lfsr_out <= (lfsr_out >> 1) ^ ({{32{{lfsr_out[0]}}}} & 32'h{LFSR_TAPS:08x});
      cycle <= cycle + 32'd1;
      if (beat_taken) begin
        shreg <= shreg >> {bb};
        left <= left - {lb}'d1;
        if (left == {lb}'d{n}) start_cycle <= cycle;
      end
      if (pop) begin  // after the shift: a refill wins
        shreg <= stage0;
        left <= {lb}'d{n};
        stage0 <= stage1;
      end
      if (push) begin  // into the first free entry (after a pop, entries move down by one)
        if (count_next == 2'd1) stage0 <= img__payload;
        else stage1 <= img__payload;
      end
      count <= count_next;
      ready <= count_next < 2'd2;
      if (o_valid & o_ready) begin
        res_data <= o_payload;
        res_cycle <= cycle;
        res_count <= res_count + 32'd1;
      end
    end
  end
endmodule
"""
