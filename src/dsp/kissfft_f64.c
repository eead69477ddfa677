/* KissFFT (the Debian source package unpacked in .deps/kissfft by tools/deps.sh, not a copy in
 * this repository) compiled a second time with double samples, every external name renamed to
 * sc_kfd*, so that it links beside the float build. Used by the log-mel front end: a float FFT
 * adds about 1e-6 of the frame's energy as noise to every bin, which moves the log of quiet
 * mel bands by up to ~3e-4 on real recordings; in double the front end matches a float64
 * reference to ~1e-6. */
#undef kiss_fft_scalar
#define kiss_fft_scalar double
#define kiss_fft_state sc_kfd_state
#define kiss_fftr_state sc_kfdr_state
#define kiss_fft_alloc sc_kfd_alloc
#define kiss_fft sc_kfd
#define kiss_fft_stride sc_kfd_stride
#define kiss_fft_cleanup sc_kfd_cleanup
#define kiss_fft_next_fast_size sc_kfd_next_fast_size
#define kiss_fftr_alloc sc_kfdr_alloc
#define kiss_fftr sc_kfdr
#define kiss_fftri sc_kfdri

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include "kiss_fft.c"
#include "kiss_fftr.c"
