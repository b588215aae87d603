; SPDX-License-Identifier: GPL-2.0-or-later
;
; CPU benchmark ROM for tests/bench/cpu_bench.py: a raw 64 KiB BIOS image that
; goes straight to 32-bit flat protected mode and runs one of two loops a
; given number of times, then powers off.
;
; Why a raw ROM rather than a boot disk under SeaBIOS: the harness compares
; wall time between emulators, and SeaBIOS's POST waits on emulated timers
; (TSC calibration on PIT channel 2, keyboard and disk timeouts) whose host
; cost differs between emulators for reasons that have nothing to do with
; instruction speed. A ROM has a few dozen instructions of set-up and is
; booted identically by vsa-vm (--bios), Bochs (romimage:) and QEMU (-bios).
; The harness still times N and 2N iterations and uses the difference, which
; removes emulator start-up and this set-up alike.
;
; The header at the start of the image is patched by the harness (one image
; per run); the loops and their instruction counts per iteration are fixed
; here and repeated in the header so the harness need not hard-code them.
;
; Output (debugcon 402h, port E9h and COM1, see rom_common.asm):
;   BENCH loop=0000000N iterations=XXXXXXXX
;   BENCH START
;   BENCH END checksum=XXXXXXXX
; The checksum depends on every iteration, so a peer that skips or
; miscomputes work is caught by comparing it with the reference peer's.

%include "rom_common.asm"

LOOP_ALU        equ 1
LOOP_MEM        equ 2
MEM_BUFFER      equ 10000h      ; 4 KiB of RAM below 1 MiB: no A20 needed
STACK_TOP       equ 9000h

section hdr start=0 vstart=0
header:
        db "VSABENCH"           ; +0  magic: the harness refuses other images
hdr_loop:
        dd LOOP_ALU             ; +8  which loop (patched)
hdr_iterations:
        dd 1000000              ; +12 iterations (patched)
        dd ALU_INSNS_PER_ITER   ; +16 instructions per iteration, alu loop
        dd MEM_INSNS_PER_ITER   ; +20 instructions per iteration, mem loop

ALU_INSNS_PER_ITER equ 10
MEM_INSNS_PER_ITER equ 12

section rm16 start=100h vstart=100h
bits 16
start:
        cli
        cld
        o32 lgdt [cs:gdtr]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword SEL_CODE32:pm_entry

        align 8
gdt:    dq 0
        dq 00CF9A000000FFFFh    ; SEL_CODE32
        dq 00CF92000000FFFFh    ; SEL_DATA32
gdt_end:
gdtr:   dw gdt_end - gdt - 1
        dd ROM_BASE + gdt

section pm32 start=1000h vstart=0F1000h  ; ROM_BASE + 1000h
bits 32
pm_entry:
        mov ax, SEL_DATA32
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov fs, ax
        mov gs, ax
        mov esp, STACK_TOP

        PRINT32 "BENCH loop="
        mov eax, [ROM_BASE + hdr_loop]
        call hex32
        PRINT32 " iterations="
        mov eax, [ROM_BASE + hdr_iterations]
        call hex32
        PRINT32 `\nBENCH START\n`

        mov ecx, [ROM_BASE + hdr_iterations]
        test ecx, ecx                   ; 0 would mean 2^32 iterations
        jnz .count_ok
        PRINT32 `BENCH BAD HEADER\n`
        mov al, 1
        jmp rom_exit
.count_ok:
        mov eax, [ROM_BASE + hdr_loop]
        cmp eax, LOOP_ALU
        je alu_bench
        cmp eax, LOOP_MEM
        je mem_bench
        PRINT32 `BENCH BAD HEADER\n`
        mov al, 1
        jmp rom_exit

; (a) Register-only ALU work: ALU_INSNS_PER_ITER instructions per iteration,
; no memory operands, one taken branch.
alu_bench:
        mov eax, 1
        mov ebx, 2
        mov edx, 3
        mov esi, 4
        mov edi, 5
        mov ebp, 6
        align 16
.loop:  add eax, ebx
        xor ebx, ecx
        rol edx, 5
        add edx, eax
        sub esi, edx
        shr edi, 3
        xor edi, esi
        add ebp, edi
        dec ecx
        jnz .loop
        xor eax, ebx
        xor eax, edx
        xor eax, esi
        xor eax, edi
        xor eax, ebp
        jmp bench_done

; (b) Loads, stores, the stack and call/ret: MEM_INSNS_PER_ITER instructions
; per iteration (8 in the loop, 4 in the callee), walking a 4 KiB buffer.
mem_bench:
        push ecx
        mov edi, MEM_BUFFER
        mov ecx, 1024
        xor eax, eax
        rep stosd
        pop ecx
        mov ebx, MEM_BUFFER
        xor edx, edx
        xor edi, edi
        xor esi, esi
        align 16
.loop:  mov eax, [ebx + edx * 4]
        add eax, ecx
        mov [ebx + edx * 4], eax
        call .callee
        inc edx
        and edx, 3FFh
        dec ecx
        jnz .loop
        ; EDI already sums every load; fold in the buffer so the stores count too.
        mov eax, edi
        mov esi, MEM_BUFFER
        mov ecx, 1024
.fold:  rol eax, 1
        xor eax, [esi]
        add esi, 4
        dec ecx
        jnz .fold
        jmp bench_done
        align 16
.callee:
        add edi, [ebx + edx * 4]
        push edi
        pop esi
        ret

bench_done:
        PRINT32 "BENCH END checksum="
        call hex32
        PRINT32 `\n`
        xor al, al
        ; fall through

; The one way out (see rom_common.asm). AL = status for QEMU's debug-exit.
rom_exit:
        mov bl, al
        mov dx, SHUTDOWN_PORT
        mov esi, shutdown_text
.next:  lodsb
        test al, al
        jz .qemu
        out dx, al
        jmp .next
.qemu:  mov dx, QEMU_EXIT_PORT
        mov al, bl
        out dx, al
.halt:  cli
        hlt
        jmp .halt

shutdown_text:
        db "Shutdown", 0

        ROM_IO32

        ROM_RESET_VECTOR start
