; SPDX-License-Identifier: GPL-2.0-or-later
;
; Shared pieces of the raw-ROM test programs (cpu_test_rom.asm, bench_rom.asm).
; Included, never assembled on its own.
;
; Those ROMs run as the machine's only firmware (vsa-vm --bios, qemu -bios,
; Bochs romimage:): a 64 KiB image at F0000h (and mirrored below 4 GiB), entered
; at the reset vector F000:FFF0 with nothing initialised. So they cannot use a
; BIOS service: output goes straight to I/O ports and the run ends by writing
; "Shutdown" to port 8900h, the Bochs-BIOS power-off port that vsa-vm and Bochs
; both honour. QEMU has no such port, so the same exit routine then writes the
; status to isa-debug-exit (port 501h, only there when run_in_qemu.sh adds
; -device isa-debug-exit); on vsa-vm and Bochs that write is never reached.
;
; Output is written to three ports at once because each peer listens on a
; different one: 402h (SeaBIOS debugcon: vsa-vm --debugcon, qemu -debugcon),
; E9h (Bochs port_e9_hack) and COM1 (serial). An absent port swallows writes.

ROM_BASE        equ 0F0000h
DEBUGCON_PORT   equ 0402h
E9_PORT         equ 00E9h
COM1_PORT       equ 03F8h
SHUTDOWN_PORT   equ 8900h
QEMU_EXIT_PORT  equ 0501h

; GDT selectors shared by both ROMs (the tables themselves are in each ROM).
SEL_CODE32      equ 08h     ; base 0, 4 GiB, 32-bit
SEL_DATA32      equ 10h     ; base 0, 4 GiB, 32-bit
SEL_CODE16      equ 18h     ; base F0000h, 64 KiB, 16-bit: the way back to real mode
SEL_DATA16      equ 20h     ; base 0, 64 KiB: real-mode-like limits before clearing PE

; ---------------------------------------------------------------------------
; 16-bit output routines. Strings live in the ROM, so they are read through CS;
; DS may point anywhere while a test runs.
; ---------------------------------------------------------------------------
%macro ROM_IO16 0
; putc16: AL to every output port. The COM1 poll is bounded so a machine
; without a UART (LSR reads FFh anyway) cannot hang the ROM.
putc16:
        push dx
        push cx
        push ax
        mov dx, DEBUGCON_PORT
        out dx, al
        out E9_PORT, al
        mov cx, 1000h
        mov dx, COM1_PORT + 5
.wait:  in al, dx
        test al, 20h
        jnz .ready
        loop .wait
.ready: pop ax
        mov dx, COM1_PORT
        out dx, al
        pop cx
        pop dx
        ret

; puts16: prints the NUL-terminated string at CS:SI; leaves SI past the NUL.
puts16:
        push ax
.next:  cs lodsb
        test al, al
        jz .done
        call putc16
        jmp .next
.done:  pop ax
        ret

; print_inline16: prints the string that follows the CALL and returns past it,
; so a message costs one line at the call site.
print_inline16:
        push bp
        push si
        mov bp, sp
        mov si, [bp + 4]
        call puts16
        mov [bp + 4], si
        pop si
        pop bp
        ret

; hex16: EAX as 8 hex digits.
hex16:
        push eax
        push ecx
        push edx
        mov edx, eax
        mov cx, 8
.digit: rol edx, 4
        mov al, dl
        and al, 0Fh
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'A' - '0' - 10
.out:   call putc16
        loop .digit
        pop edx
        pop ecx
        pop eax
        ret

; dec16: AX as an unsigned decimal number.
dec16:
        push ax
        push bx
        push cx
        push dx
        mov bx, 10
        xor cx, cx
.div:   xor dx, dx
        div bx
        push dx
        inc cx
        test ax, ax
        jnz .div
.emit:  pop ax
        add al, '0'
        call putc16
        loop .emit
        pop dx
        pop cx
        pop bx
        pop ax
        ret
%endmacro

%macro PRINT16 1
        call print_inline16
        db %1, 0
%endmacro

; ---------------------------------------------------------------------------
; 32-bit output routines, for flat segments (CS and DS base 0): the ROM is
; read at its linear address, which is what its 32-bit labels hold.
; ---------------------------------------------------------------------------
%macro ROM_IO32 0
putc32:
        push edx
        push ecx
        push eax
        mov dx, DEBUGCON_PORT
        out dx, al
        out E9_PORT, al
        mov ecx, 1000h
        mov dx, COM1_PORT + 5
.wait:  in al, dx
        test al, 20h
        jnz .ready
        loop .wait
.ready: pop eax
        mov dx, COM1_PORT
        out dx, al
        pop ecx
        pop edx
        ret

puts32:
        push eax
.next:  lodsb
        test al, al
        jz .done
        call putc32
        jmp .next
.done:  pop eax
        ret

print_inline32:
        push esi
        mov esi, [esp + 4]
        call puts32
        mov [esp + 4], esi
        pop esi
        ret

hex32:
        push eax
        push ecx
        push edx
        mov edx, eax
        mov ecx, 8
.digit: rol edx, 4
        mov al, dl
        and al, 0Fh
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'A' - '0' - 10
.out:   call putc32
        loop .digit
        pop edx
        pop ecx
        pop eax
        ret
%endmacro

%macro PRINT32 1
        call print_inline32
        db %1, 0
%endmacro

; The reset vector: the last 16 bytes of the image. A far jump, as on every
; PC BIOS, so CS gets a real-mode base of F0000h from here on.
%macro ROM_RESET_VECTOR 1
section reset start=0FFF0h vstart=0FFF0h
bits 16
        jmp 0F000h:%1
        times 16 - ($ - $$) db 0
%endmacro
