/*
 * How close the int8-activation GEMM is to the machine's vpdpbusd throughput, measured side by side: each round
 * runs 16 independent vpdpbusd chains on 2 threads for 0.3 s (the instruction's throughput, not its latency), then
 * the best of 3 qg_gemm calls, and prints both in GOPS (one int8 multiply-add = 2 ops) and their ratio.
 *
 *   gcc -O3 vnni_peak.c -o vnni_peak -ldl -lpthread
 *   ./vnni_peak target/classes/native/linux-x86_64/libquantgate.so FMT N K GROUP M     (FMT 3 = int8, 4-7 = 4-bit)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static double res[2];
__attribute__((target("avx512f,avx512vnni,avx512bw")))
static void *peak(void *arg){
  /* 16 independent accumulators in named registers (an array made gcc spill them to the stack every step) */
  long id=(long)arg; const __m512i b=_mm512_set1_epi8(3), c=_mm512_set1_epi8(5);
  __m512i a0=_mm512_set1_epi32(0),a1=a0,a2=a0,a3=a0,a4=a0,a5=a0,a6=a0,a7=a0,a8=a0,a9=a0,a10=a0,a11=a0,a12=a0,a13=a0,a14=a0,a15=a0;
  long n=0; double t0=now(), t;
  do {
    for(int r=0;r<1000;r++){
      /* written as asm: identical C statements on equal accumulators are merged by the compiler */
      __asm__ volatile(
        "vpdpbusd %[b], %[c], %[a0]\n\tvpdpbusd %[b], %[c], %[a1]\n\tvpdpbusd %[b], %[c], %[a2]\n\tvpdpbusd %[b], %[c], %[a3]\n\t"
        "vpdpbusd %[b], %[c], %[a4]\n\tvpdpbusd %[b], %[c], %[a5]\n\tvpdpbusd %[b], %[c], %[a6]\n\tvpdpbusd %[b], %[c], %[a7]"
        : [a0]"+v"(a0),[a1]"+v"(a1),[a2]"+v"(a2),[a3]"+v"(a3),[a4]"+v"(a4),[a5]"+v"(a5),[a6]"+v"(a6),[a7]"+v"(a7)
        : [b]"v"(b), [c]"v"(c));
      __asm__ volatile(
        "vpdpbusd %[b], %[c], %[a8]\n\tvpdpbusd %[b], %[c], %[a9]\n\tvpdpbusd %[b], %[c], %[a10]\n\tvpdpbusd %[b], %[c], %[a11]\n\t"
        "vpdpbusd %[b], %[c], %[a12]\n\tvpdpbusd %[b], %[c], %[a13]\n\tvpdpbusd %[b], %[c], %[a14]\n\tvpdpbusd %[b], %[c], %[a15]"
        : [a8]"+v"(a8),[a9]"+v"(a9),[a10]"+v"(a10),[a11]"+v"(a11),[a12]"+v"(a12),[a13]"+v"(a13),[a14]"+v"(a14),[a15]"+v"(a15)
        : [b]"v"(b), [c]"v"(c));
    }
    n+=16000; t=now()-t0;
  } while(t<0.3);
  __m512i s=_mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a0,a1),_mm512_add_epi32(a2,a3)),_mm512_add_epi32(_mm512_add_epi32(a4,a5),_mm512_add_epi32(a6,a7)));
  s=_mm512_add_epi32(s,_mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a8,a9),_mm512_add_epi32(a10,a11)),_mm512_add_epi32(_mm512_add_epi32(a12,a13),_mm512_add_epi32(a14,a15))));
  res[id]=n*128.0/t/1e9 + (_mm512_reduce_add_epi32(s)==12345?1e-9:0);
  return NULL;
}
typedef int (*gemm_fn)(int,int,int,int,int,const void*,const uint16_t*,const uint8_t*,int,const float*,int64_t,float*,int64_t);
int main(int argc,char**argv){
  if(argc<7){fprintf(stderr,"usage: %s libquantgate.so FMT N K GROUP M\n",argv[0]);return 2;}
  void*h=dlopen(argv[1],RTLD_NOW); if(!h){fprintf(stderr,"%s\n",dlerror());return 2;}
  gemm_fn f=(gemm_fn)dlsym(h,"qg_gemm"); if(!f){fprintf(stderr,"no qg_gemm\n");return 2;}
  int fmt=atoi(argv[2]), n=atoi(argv[3]), k=atoi(argv[4]), g=atoi(argv[5]), m=atoi(argv[6]);
  int64_t rb = fmt==3? k : 4LL*((k+7)/8); int G=(k+g-1)/g;
  uint8_t*codes=malloc((size_t)n*rb),*z=calloc((size_t)n*G,1); uint16_t*sc=malloc((size_t)n*G*2);
  float*x=malloc((size_t)m*k*4),*y=malloc((size_t)m*n*4);
  for(int64_t i=0;i<(int64_t)n*rb;i++) codes[i]=rand();
  for(int64_t i=0;i<(int64_t)n*G;i++) sc[i]=0x2000;
  for(int64_t i=0;i<(int64_t)m*k;i++) x[i]=(float)rand()/RAND_MAX-0.5f;
  double ops=2.0*n*k*m;
  for(int r=0;r<8;r++){
    pthread_t t[2]; for(long i=0;i<2;i++) pthread_create(&t[i],NULL,peak,(void*)i); for(int i=0;i<2;i++) pthread_join(t[i],NULL);
    double pk=res[0]+res[1];
    usleep(10000);
    f(fmt,1,n,k,g,codes,sc,z,m,x,k,y,n);
    double best=1e9; for(int i=0;i<3;i++){ double t0=now(); f(fmt,1,n,k,g,codes,sc,z,m,x,k,y,n); double tt=now()-t0; if(tt<best) best=tt; }
    printf("round %d: vpdpbusd peak (2 threads) %.0f GOPS, GEMM %.0f GOPS = %.2f of peak\n", r, pk, ops/best/1e9, ops/best/1e9/pk);
  }
}
