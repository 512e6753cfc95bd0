// Horizontal sums shared by the kernels in *_amd64.s.

// HSUMPS_Y0 leaves the sum of the eight floats of Y0 in the low float of
// X0; it clobbers X1.
#define HSUMPS_Y0 \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VPERMILPS    $0x0e, X0, X1; \
	VADDPS       X1, X0, X0; \
	VPERMILPS    $0x01, X0, X1; \
	VADDSS       X1, X0, X0

// SUM4PS_Y folds the accumulators Y1..Y3 into Y0.
#define SUM4PS_Y \
	VADDPS Y1, Y0, Y0; \
	VADDPS Y3, Y2, Y2; \
	VADDPS Y2, Y0, Y0

// SUM4PS_Z folds the accumulators Z0..Z3 into Y0.
#define SUM4PS_Z \
	VADDPS        Z1, Z0, Z0; \
	VADDPS        Z3, Z2, Z2; \
	VADDPS        Z2, Z0, Z0; \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPS        Y1, Y0, Y0

// HSUMD_Y0 leaves the sum of the eight int32 lanes of Y0 in X0's low
// lane; it clobbers X1.
#define HSUMD_Y0 \
	VEXTRACTI128 $1, Y0, X1; \
	VPADDD       X1, X0, X0; \
	VPSHUFD      $0x4e, X0, X1; \
	VPADDD       X1, X0, X0; \
	VPSHUFD      $0xb1, X0, X1; \
	VPADDD       X1, X0, X0

// HSUMQ_Y0 leaves the sum of the four int64 lanes of Y0 in X0's low
// lane; it clobbers X1.
#define HSUMQ_Y0 \
	VEXTRACTI128 $1, Y0, X1; \
	VPADDQ       X1, X0, X0; \
	VPSHUFD      $0x4e, X0, X1; \
	VPADDQ       X1, X0, X0

// TAILMASK32 sets K1 to the low CX bits (CX < 32); it clobbers AX.
#define TAILMASK32 \
	MOVL  $1, AX; \
	SHLL  CX, AX; \
	DECL  AX; \
	KMOVD AX, K1

// TAILMASK64 sets K1 to the low CX bits (CX < 64); it clobbers AX.
#define TAILMASK64 \
	MOVQ  $1, AX; \
	SHLQ  CX, AX; \
	DECQ  AX; \
	KMOVQ AX, K1
