; SPDX-License-Identifier: GPL-2.0-or-later
;
; A tiny "Linux kernel" for boot loader tests: a bzImage-format file (Linux
; x86 boot protocol 2.06) that a real boot loader (SYSLINUX) loads like a
; kernel: boot sector with the setup header at 1F1h, SETUP_SECTS setup
; sectors, then the protected-mode part, loaded high (LOADED_HIGH) at 1 MiB.
; The loader enters the setup code in real mode at (setup segment + 20h):0
; with DS = ES = SS = setup segment. The kernel then checks what it was
; given and reports on COM1 (115200 8N1), one line each:
;
;   VSA-TESTKERNEL setup seg=XXXX         real mode reached, setup segment
;   VSA-TESTKERNEL setup-sectors ok|BAD   the last setup sector's trailer
;   VSA-TESTKERNEL loader=XX              type_of_loader (SYSLINUX: 3Xh)
;   VSA-TESTKERNEL loadflags=XX heap_end=XXXX
;   VSA-TESTKERNEL pm ok                  32-bit flat protected mode, running
;                                         the protected-mode part at 1 MiB
;   VSA-TESTKERNEL pm-crc32=XXXXXXXX len=XXXXXXXX   CRC-32 (zlib's) of the
;                                         SYSSIZE*16 bytes at 1 MiB (before
;                                         anything there is written)
;   VSA-TESTKERNEL pm-pattern ok|BAD      the 64 KiB generated pattern
;   VSA-TESTKERNEL cmdline-ptr=XXXXXXXX
;   VSA-TESTKERNEL cmdline=<text>         the NUL-terminated command line
;                                         (at most 255 bytes)
;   VSA-TESTKERNEL initrd=XXXXXXXX size=XXXXXXXX
;   VSA-TESTKERNEL initrd-crc32=XXXXXXXX  CRC-32 of the initrd in memory
;   VSA-TESTKERNEL done
;
; then powers off ("Shutdown" to port 8900h) and halts. The test
; (tests/guests/syslinux_floppy_test.py) recomputes both CRCs on the host
; from the files it put on the floppy. The kernel uses no memory but its
; own setup segment, the stack at 180000h and the CRC table at 170000h:
; the protected-mode part ends below 112000h, initrds sit at the top of RAM.

SETUP_SECTS     equ 4
PM_BASE         equ 100000h
PATTERN_DWORDS  equ 16384               ; 64 KiB
CRC_TABLE       equ 170000h
PM_STACK        equ 180000h
CMDLINE_MAX     equ 255

%include "com1.asm"

%macro PRINT 1
        call print_inline
        db %1, 0
%endmacro

; ---------------------------------------------------------------- boot sector
bits 16
org 0
bootsect:
        ; Not bootable by itself: SYSLINUX never runs this sector.
        times 1F1h - ($ - $$) db 0
hdr:
setup_sects:    db SETUP_SECTS
root_flags:     dw 0
syssize:        dd PM_SIZE / 16
ram_size:       dw 0
vid_mode:       dw 0FFFFh               ; "normal"
root_dev:       dw 0
boot_flag:      dw 0AA55h
; ---------------------------------------------------------------- setup (offset 200h)
        jmp short setup_start
header_magic:   db "HdrS"
version:        dw 0206h
realmode_swtch: dd 0
start_sys_seg:  dw 1000h
kernel_version: dw kernel_version_text - 200h
type_of_loader: db 0
loadflags:      db 01h                  ; LOADED_HIGH
setup_move_size: dw 8000h
code32_start:   dd PM_BASE
ramdisk_image:  dd 0
ramdisk_size:   dd 0
bootsect_kludge: dd 0
heap_end_ptr:   dw 0
ext_loader_ver: db 0
ext_loader_type: db 0
cmd_line_ptr:   dd 0
initrd_addr_max: dd 37FFFFFFh
kernel_alignment: dd 100000h
relocatable_kernel: db 0
min_alignment:  db 0
xloadflags:     dw 0
cmdline_size:   dd CMDLINE_MAX

kernel_version_text: db "vsa-testkernel 1.0", 0

setup_start:
        ; CS = DS + 20h: make CS = DS so offsets are file offsets everywhere.
        push ds
        push word .normal
        retf
.normal:
        cli
        cld
        com1_init
        PRINT `VSA-TESTKERNEL setup seg=`
        mov ax, ds
        call print_hex16
        PRINT `\n`

        PRINT `VSA-TESTKERNEL setup-sectors `
        cmp dword [setup_trailer], 'SETE'
        jne .bad_trailer
        PRINT `ok\n`
        jmp .loader
.bad_trailer:
        PRINT `BAD\n`
.loader:
        PRINT `VSA-TESTKERNEL loader=`
        mov al, [type_of_loader]
        call print_hex8
        PRINT `\nVSA-TESTKERNEL loadflags=`
        mov al, [loadflags]
        call print_hex8
        PRINT ` heap_end=`
        mov ax, [heap_end_ptr]
        call print_hex16
        PRINT `\n`

        ; A20 through the fast gate (port 92h), as kernels make sure of it.
        in al, 92h
        or al, 02h
        and al, 0FEh
        out 92h, al

        ; The GDT lives in this segment: its base is linear, so patch it.
        xor eax, eax
        mov ax, ds
        shl eax, 4
        mov esi, eax                    ; boot parameters (this segment) for the pm part
        add eax, gdt
        mov [gdt_desc + 2], eax
        lgdt [gdt_desc]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword 08h:pm_entry

        align 8
gdt:    dq 0
        dq 00CF9A000000FFFFh            ; 08h: code, flat 4 GiB
        dq 00CF92000000FFFFh            ; 10h: data, flat 4 GiB
gdt_desc:
        dw 3 * 8 - 1
        dd 0

        com1_print_routines

; AX as four hex digits (keeps all registers).
print_hex16:
        push ax
        mov al, ah
        call print_hex8
        pop ax
        ; fall through
print_hex8:
        push ax
        shr al, 4
        call print_nibble
        pop ax
        push ax
        call print_nibble
        pop ax
        ret
print_nibble:
        push dx
        and al, 0Fh
        add al, '0'
        cmp al, '9'
        jbe .digit
        add al, 'a' - '0' - 10
.digit: mov ah, al
        mov dx, COM1 + 5
.wait:  in al, dx                       ; no bound: this only runs at boot
        test al, 20h
        jz .wait
        mov al, ah
        mov dx, COM1
        out dx, al
        pop dx
        ret

        times (SETUP_SECTS + 1) * 512 - 4 - ($ - $$) db 0
setup_trailer:  db "SETE"

; ---------------------------------------------------------------- protected-mode part (at 1 MiB)
section pm vstart=PM_BASE follows=.text
bits 32
pm_start:
pm_entry:
        mov ax, 10h
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, PM_STACK
        mov ebp, esi                    ; boot parameters, kept in EBP

        ; The checksum of the image first, before the stack or table could
        ; touch anything (they are above it anyway).
        call crc_make_table
        mov esi, PM_BASE
        mov ecx, PM_SIZE
        call crc32
        mov ebx, eax
        mov esi, txt_pm_ok
        call print32
        mov esi, txt_pm_crc
        call print32
        mov eax, ebx
        call hex32
        mov esi, txt_len
        call print32
        mov eax, PM_SIZE
        call hex32
        mov esi, txt_nl
        call print32

        ; The pattern: dword i = i * 9E3779B1h xor 5A5AA5A5h.
        mov esi, pattern
        xor ecx, ecx
        mov edx, txt_ok
.pat:   mov eax, ecx
        imul eax, eax, 9E3779B1h
        xor eax, 5A5AA5A5h
        cmp eax, [esi + ecx * 4]
        je .pat_next
        mov edx, txt_bad
.pat_next:
        inc ecx
        cmp ecx, PATTERN_DWORDS
        jb .pat
        mov esi, txt_pattern
        call print32
        mov esi, edx
        call print32

        ; The command line.
        mov esi, txt_cmdptr
        call print32
        mov eax, [ebp + 228h]
        call hex32
        mov esi, txt_nl
        call print32
        mov esi, txt_cmdline
        call print32
        mov esi, [ebp + 228h]
        test esi, esi
        jz .no_cmdline
        mov ecx, CMDLINE_MAX
.cmd:   lodsb
        test al, al
        jz .no_cmdline
        call putc32
        loop .cmd
.no_cmdline:
        mov esi, txt_nl
        call print32

        ; The initrd.
        mov esi, txt_initrd
        call print32
        mov eax, [ebp + 218h]
        call hex32
        mov esi, txt_size
        call print32
        mov eax, [ebp + 21Ch]
        call hex32
        mov esi, txt_nl
        call print32
        mov esi, [ebp + 218h]
        mov ecx, [ebp + 21Ch]
        call crc32
        mov ebx, eax
        mov esi, txt_initrd_crc
        call print32
        mov eax, ebx
        call hex32
        mov esi, txt_nl
        call print32

        mov esi, txt_done
        call print32
        ; Power off: "Shutdown" to port 8900h.
        mov dx, 8900h
        mov esi, txt_shutdown
.off:   lodsb
        test al, al
        jz .halt
        out dx, al
        jmp .off
.halt:  cli
        hlt
        jmp .halt

; The table of the reflected CRC-32 (polynomial EDB88320h) at CRC_TABLE.
crc_make_table:
        xor ecx, ecx
.entry: mov eax, ecx
        mov edx, 8
.bit:   shr eax, 1
        jnc .nox
        xor eax, 0EDB88320h
.nox:   dec edx
        jnz .bit
        mov [CRC_TABLE + ecx * 4], eax
        inc ecx
        cmp ecx, 256
        jb .entry
        ret

; EAX = CRC-32 of ECX bytes at ESI (zlib.crc32's value).
crc32:
        mov eax, 0FFFFFFFFh
        test ecx, ecx
        jz .end
.byte:  movzx edx, byte [esi]
        inc esi
        xor dl, al
        shr eax, 8
        xor eax, [CRC_TABLE + edx * 4]
        dec ecx
        jnz .byte
.end:   not eax
        ret

; The NUL-terminated string at ESI to COM1.
print32:
        lodsb
        test al, al
        jz .done
        call putc32
        jmp print32
.done:  ret

; AL to COM1 (keeps all registers but the flags).
putc32:
        push edx
        push eax
        mov dx, COM1 + 5
.wait:  in al, dx
        test al, 20h
        jz .wait
        pop eax
        mov dx, COM1
        out dx, al
        pop edx
        ret

; EAX as eight hex digits.
hex32:
        push ecx
        mov ecx, 8
.digit: rol eax, 4
        push eax
        and al, 0Fh
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'a' - '0' - 10
.out:   call putc32
        pop eax
        loop .digit
        pop ecx
        ret

txt_pm_ok:      db `VSA-TESTKERNEL pm ok\n`, 0
txt_pm_crc:     db "VSA-TESTKERNEL pm-crc32=", 0
txt_len:        db " len=", 0
txt_pattern:    db "VSA-TESTKERNEL pm-pattern ", 0
txt_ok:         db `ok\n`, 0
txt_bad:        db `BAD\n`, 0
txt_cmdptr:     db "VSA-TESTKERNEL cmdline-ptr=", 0
txt_cmdline:    db "VSA-TESTKERNEL cmdline=", 0
txt_initrd:     db "VSA-TESTKERNEL initrd=", 0
txt_size:       db " size=", 0
txt_initrd_crc: db "VSA-TESTKERNEL initrd-crc32=", 0
txt_done:       db `VSA-TESTKERNEL done\n`, 0
txt_nl:         db `\n`, 0
txt_shutdown:   db "Shutdown", 0

        align 4
pattern:
%assign i 0
%rep PATTERN_DWORDS
        dd ((i * 9E3779B1h) ^ 5A5AA5A5h) & 0FFFFFFFFh
%assign i i + 1
%endrep
        align 512, db 0
PM_SIZE equ $ - pm_start
